//! pycmarshal against python3: Python dumps values with every marshal version and describes what
//! `marshal.loads` gives back; pycmarshal must decode the same bytes to the same description.

mod support;

#[test]
fn random_values_decode_as_python3_loads_them() {
    let python = support::python3();
    let dir = support::tempdir();
    let stdlib = std::process::Command::new(&python.program)
        .args(["-c", "import os; print(os.path.dirname(os.__file__))"])
        .output()
        .unwrap();
    let stdlib = std::path::PathBuf::from(String::from_utf8(stdlib.stdout).unwrap().trim());
    let sources: Vec<String> = [
        "textwrap.py",
        "glob.py",
        "fractions.py",
        "dataclasses.py",
        "ast.py",
    ]
    .iter()
    .map(|name| stdlib.join(name).to_string_lossy().into_owned())
    .collect();
    let dir_arg = dir.path().to_string_lossy().into_owned();
    let mut args = vec![
        "values", "--seed", "2026", "--count", "2000", "--out", &dir_arg,
    ];
    args.push("--sources");
    args.extend(sources.iter().map(String::as_str));
    let cases = support::oracle(&python, &args);
    let summary = support::differential(&python, dir.path());
    println!("{} cases from {}: {summary}", cases.trim(), python.label());
}
