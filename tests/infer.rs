//! Inferring the version of headerless data: every corpus file with its header stripped (and, whole,
//! the size of its header, as for a file whose magic is unknown). The true layout must always be among
//! the candidates (it decodes strictly), and should rank first; the table also says how often the first
//! reading is one of the true version itself (rather than another version with the same layout).

mod support;

use pycmarshal::tools::infer::{infer_pyc, infer_version};
use std::collections::BTreeMap;

#[test]
fn stripped_corpus_files_infer_their_own_layout() {
    let Some(corpus) = support::corpus("stripped_corpus_files_infer_their_own_layout") else {
        return;
    };
    // Per true layout: files, the true layout ranked first, a reading of the true version ranked first.
    let mut by_layout: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut same_layout = Vec::new();
    for (label, path) in support::corpus_files(&corpus) {
        let data = std::fs::read(&path).unwrap();
        let pyc = match pycmarshal::parse_pyc(&data) {
            Ok(pyc) if !support::foreign(&pyc.header) => pyc,
            _ => continue, // not CPython marshal: another reader's business
        };
        let truth = pyc
            .header
            .entry
            .map_or(pyc.header.python.code_layout(), |e| e.code);
        let body = &data[pyc.header.size()..];
        let found = infer_pyc(&data).map(|(start, _)| start);
        assert_eq!(
            found,
            Some(pyc.header.size()),
            "{}: header size",
            path.display()
        );
        let candidates = infer_version(body);
        let row = by_layout.entry(format!("{truth:?}")).or_default();
        row[0] += 1;
        match candidates.first() {
            Some(first) if first.reading.covers(pyc.header.python) => row[2] += 1,
            Some(first) => same_layout.push(format!(
                "{label}/{} ({}): {}",
                path.file_name().unwrap().to_string_lossy(),
                pyc.header.python,
                first.reading.versions()
            )),
            None => {}
        }
        match candidates.iter().position(|c| c.reading.layout == truth) {
            Some(0) => row[1] += 1,
            Some(_) => misses.push(format!(
                "{label}/{}: {:?}",
                path.file_name().unwrap().to_string_lossy(),
                candidates
                    .iter()
                    .map(|c| (c.reading.versions(), c.problems))
                    .collect::<Vec<_>>()
            )),
            None => panic!(
                "{}: the true layout {truth:?} is not a candidate",
                path.display()
            ),
        }
    }
    let heading = [
        "true layout",
        "files",
        "layout first",
        "version first",
        "layout rate",
        "version rate",
    ];
    let mut rows = vec![heading.map(String::from)];
    let mut total = [0; 3];
    for (layout, counts) in &by_layout {
        rows.push([
            layout.clone(),
            counts[0].to_string(),
            counts[1].to_string(),
            counts[2].to_string(),
            percent(counts[1], counts[0]),
            percent(counts[2], counts[0]),
        ]);
        for (sum, n) in total.iter_mut().zip(counts) {
            *sum += n;
        }
    }
    rows.push([
        "all".into(),
        total[0].to_string(),
        total[1].to_string(),
        total[2].to_string(),
        percent(total[1], total[0]),
        percent(total[2], total[0]),
    ]);
    println!("{}", support::markdown_table(&rows));
    for line in &same_layout {
        println!("  another version of the same layout first: {line}");
    }
    for miss in &misses {
        println!("  not first: {miss}");
    }
    assert!(total[0] > 1600, "only {} files", total[0]);
    // Every file of the corpus: the rules tell every pair of layouts apart, and 3.8's from 3.10's.
    assert_eq!(
        total[1], total[0],
        "the true layout ranks first for only {} files",
        total[1]
    );
}

fn percent(part: usize, whole: usize) -> String {
    format!("{:.1}%", 100.0 * part as f64 / whole.max(1) as f64)
}
