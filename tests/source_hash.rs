//! The keyed source hash of hash-based pycs against python3's own `importlib.util.source_hash`, on
//! sources of every length around SipHash's 8-byte blocks and on bytes that are not text.

mod support;

use pycmarshal::tools::check::source_hash;

#[test]
fn source_hash_equals_importlibs_for_every_block_tail() {
    let python = support::python3();
    let dir = support::tempdir();
    let mut sources: Vec<Vec<u8>> = (0..=24u8).map(|n| (0..n).collect()).collect();
    sources.push((0..=255u8).cycle().take(4099).collect());
    sources.push(b"def f():\n    return '\xc3\xa9'\n".to_vec());
    for (i, source) in sources.iter().enumerate() {
        std::fs::write(dir.path().join(i.to_string()), source).unwrap();
    }
    let script = "import importlib.util, sys, os
for i in range(int(sys.argv[2])):
    print(importlib.util.source_hash(open(os.path.join(sys.argv[1], str(i)), 'rb').read()).hex())";
    let count = sources.len().to_string();
    let args = [dir.path().as_os_str(), count.as_ref()];
    let expected = String::from_utf8(support::python_output_with(&python, script, args)).unwrap();
    let [lo, hi] = python.magic.to_le_bytes();
    let word = [lo, hi, 0x0d, 0x0a];
    let mut checked = 0;
    for (source, expected) in sources.iter().zip(expected.lines()) {
        let hash = source_hash(python.python(), word, source);
        let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected, "{} bytes, {}", source.len(), python.label());
        checked += 1;
    }
    assert_eq!(checked, sources.len());
}
