//! The second oracle: xdis, a cross-version unmarshaller written independently of CPython's marshal.c.
//! For every corpus file both read, the code objects in pre-order (the module first, then the code
//! objects among `co_consts`, depth first) must agree on name, first line number, bytecode length and
//! number of constants. xdis runs once, in one python3 process, over every file
//! (`tests/oracle/xdis_codes.py`).

mod support;

use pycmarshal::Code;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One code object as both sides describe it: name, first line (none before 1.5), bytecode length,
/// number of constants.
type Summary = (String, Option<i64>, usize, usize);

/// Our pre-order list of a file's code objects.
fn ours(root: Code<'_, '_>) -> Vec<Summary> {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(code) = stack.pop() {
        out.push((
            code.name().unwrap_or_default().into_owned(),
            code.firstlineno().map(i64::from),
            code.bytecode().map_or(0, <[u8]>::len),
            code.consts().map_or(0, |c| c.len()),
        ));
        let nested: Vec<Code> = code.nested().collect();
        stack.extend(nested.into_iter().rev());
    }
    out
}

/// xdis's lists, by path; `Err` with its message where it could not read the file. `None` when python3
/// has no xdis.
fn xdis(paths: &[PathBuf]) -> Option<BTreeMap<PathBuf, Result<Vec<Summary>, String>>> {
    let python = support::python3();
    let probe = support::python_output(
        &python,
        "import importlib.util as u; print(bool(u.find_spec('xdis')))",
    );
    if String::from_utf8_lossy(&probe).trim() != "True" {
        return None;
    }
    let dir = support::tempdir();
    let out = dir.path().join("xdis.jsonl");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/xdis_codes.py");
    let mut child = Command::new(&python.program)
        .arg(script)
        .arg(&out)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for path in paths {
        writeln!(stdin, "{}", path.display()).unwrap();
    }
    drop(stdin);
    assert!(child.wait().unwrap().success(), "xdis_codes.py failed");
    let mut results = BTreeMap::new();
    for line in std::fs::read_to_string(&out).unwrap().lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        let path = PathBuf::from(record["path"].as_str().unwrap());
        let result = match record.get("error") {
            Some(error) => Err(error.as_str().unwrap().to_string()),
            None => Ok(record["codes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c[0].as_str().unwrap().to_string(),
                        c[1].as_i64(),
                        c[2].as_u64().unwrap() as usize,
                        c[3].as_u64().unwrap() as usize,
                    )
                })
                .collect()),
        };
        results.insert(path, result);
    }
    Some(results)
}

/// Files xdis reads wrongly or not at all, with the proof in `the_interpreters_read_what_xdis_gets_wrong`:
///
/// - A negative long (`l` with a negative digit count): xdis reads the count unsigned and runs off the
///   end ("Ill-formed bytecode file"). CPython 2.7 loads the file.
/// - PyPy 3.6-3.10 class bodies and some functions: xdis names them after their file or their first
///   local (`__locals__`), that is, it resolves the `r` back-reference of `co_name` to the wrong slot.
///   PyPy 3.9 itself loads the 3.9 files with the names we read (the class names of the source).
///
/// The list is `tests/oracle/xdis_wrong.txt`, which the Python package's tests read too.
fn xdis_wrong_list() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracle/xdis_wrong.txt");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(String::from)
        .collect()
}

fn xdis_wrong(label: &str, name: &str) -> bool {
    xdis_wrong_list().contains(&format!("{label}/{name}"))
}

#[test]
fn code_objects_agree_with_xdis_wherever_xdis_reads_the_file() {
    let test = "code_objects_agree_with_xdis_wherever_xdis_reads_the_file";
    let Some(corpus) = support::corpus(test) else {
        return;
    };
    let files = support::corpus_files(&corpus);
    let paths: Vec<PathBuf> = files.iter().map(|(_, path)| path.clone()).collect();
    let Some(theirs) = xdis(&paths) else {
        eprintln!("SKIPPED {test}: python3 has no xdis (.ci/setup installs it)");
        return;
    };
    let (mut compared, mut codes) = (0, 0);
    let (mut xdis_failed, mut foreign, mut disagreements) = (Vec::new(), 0, Vec::new());
    let mut proven = Vec::new();
    for (label, path) in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(path).unwrap();
        let pyc = match pycmarshal::parse_pyc(&data) {
            Ok(pyc) if !support::foreign(&pyc.header) => pyc,
            // GraalPy, RustPython and Dropbox payloads: another part of the crate reads them, and
            // its tests compare them with xdis.
            _ => {
                foreign += 1;
                continue;
            }
        };
        let mine = ours(pyc.code().unwrap());
        match &theirs[path] {
            Err(error) if xdis_wrong(label, &name) => {
                proven.push(format!("{label}/{name}: {}", first_line(error)))
            }
            Ok(list) if *list != mine && xdis_wrong(label, &name) => {
                proven.push(format!("{label}/{name}: {}", difference(list, &mine)))
            }
            Err(error) => {
                xdis_failed.push(format!("{label}/{name}: {}", first_line(error)));
            }
            Ok(list) if *list == mine => {
                compared += 1;
                codes += mine.len();
            }
            Ok(list) => disagreements.push(format!("{label}/{name}: {}", difference(list, &mine))),
        }
    }
    println!(
        "xdis: {compared} files agree ({codes} code objects); {} files where xdis is proven wrong; \
         {} files xdis cannot read; {foreign} files not CPython marshal skipped",
        proven.len(),
        xdis_failed.len()
    );
    for line in &proven {
        println!("  xdis proven wrong: {line}");
    }
    for line in &xdis_failed {
        println!("  xdis cannot read: {line}");
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    // Beyond the files proven above, xdis may fail only on magics newer than it knows.
    let unexplained: Vec<&String> = xdis_failed
        .iter()
        .filter(|f| !f.contains("Unknown magic number"))
        .collect();
    assert!(unexplained.is_empty(), "{unexplained:?}");
    assert_eq!(
        proven.len(),
        xdis_wrong_list().len(),
        "xdis now reads some: {proven:?}"
    );
    assert!(compared > 1500, "only {compared} files compared");
}

/// Where two lists of code objects first differ.
fn difference(theirs: &[Summary], mine: &[Summary]) -> String {
    match theirs.iter().zip(mine).position(|(a, b)| a != b) {
        Some(i) => format!("code #{i}: xdis {:?}, ours {:?}", theirs[i], mine[i]),
        None => format!("xdis {} codes, ours {}", theirs.len(), mine.len()),
    }
}

/// The proof for `tests/oracle/xdis_wrong.txt`: the interpreters that wrote (or can read) those files load them as we do.
/// CPython 2.7 reads the 2.5 file (same code layout and marshal dialect); PyPy 3.9 reads the PyPy 3.9
/// files, and its own `marshal.loads` names the code objects as we do. The PyPy 3.6-3.10 files of other
/// versions come from the same writer and go wrong in xdis the same way.
#[test]
fn the_interpreters_read_what_xdis_gets_wrong() {
    let test = "the_interpreters_read_what_xdis_gets_wrong";
    let Some(corpus) = support::corpus(test) else {
        return;
    };
    for (name, prefix) in [("2.7", "2.5/"), ("pypy3", "pypy3.9/")] {
        let Some(python) = support::oracle_interpreter(name, test) else {
            continue;
        };
        let dir = support::tempdir();
        let dir_arg = dir.path().to_string_lossy().into_owned();
        let paths: Vec<String> = xdis_wrong_list()
            .iter()
            .filter(|file| file.starts_with(prefix))
            .map(|file| corpus.join("pyc").join(file).to_string_lossy().into_owned())
            .collect();
        let mut args = vec!["describe", "--out", &dir_arg];
        args.extend(paths.iter().map(String::as_str));
        support::oracle(&python, &args);
        let summary = support::differential(&python, dir.path());
        println!("{}: {}", python.label(), summary.trim());
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}
