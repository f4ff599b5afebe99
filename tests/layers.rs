//! The house rules, checked on the source tree itself: the layers import only downward, there is no
//! import circle between files, and a file names the sibling it uses rather than its folder's
//! re-exports. `cargo test --test layers -- --nocapture` prints every module's imports.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The library's layers, bottom first: a module may import from its own layer and those before it.
const LAYERS: [&str; 9] = [
    "base", "format", "object", "read", "bytecode", "write", "tools", "fuzzing", "cli",
];

/// A module path, `read::dialect::graalpy`; the crate root is empty.
type Module = Vec<String>;

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The module a file of the library defines: `src/read/parse.rs` is `read::parse`, a `mod.rs` its
/// folder's module.
fn module_of(src: &Path, file: &Path) -> Module {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Module = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The source without comments (so that paths in docs do not count) and without its unit tests (whose
/// `super` is the file itself).
fn code_of(text: &str) -> String {
    let text = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    let mut out = String::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Expands a `use` tree (`crate::a::{b, c::{d, e}}`) into its paths.
fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    match tree.find('{') {
        None => out.push(format!("{prefix}{tree}")),
        Some(open) => {
            let head = &tree[..open];
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&inner[start..i], &format!("{prefix}{head}"), out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            if !inner[start..].trim().is_empty() {
                expand(&inner[start..], &format!("{prefix}{head}"), out);
            }
        }
    }
}

/// Every path a file names from the crate: its `use` statements (re-exports of its own children left
/// out), and `crate::`/`super::` paths written inline.
fn paths_of(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = &rest[..at];
        let statement_start = before
            .chars()
            .last()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        let after = &rest[at + 4..];
        let end = after.find(';').unwrap_or(after.len());
        if statement_start {
            let tree = after[..end].split(" as ").next().unwrap_or_default();
            if !tree.trim_start().starts_with("self::") {
                expand(tree, "", &mut out);
            }
        }
        rest = &after[end.min(after.len())..];
    }
    for word in code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
        if (word.starts_with("crate::") || word.starts_with("super::")) && !word.ends_with("::") {
            out.push(word.to_string());
        }
    }
    out.retain(|p| p.starts_with("crate::") || p.starts_with("super::"));
    out
}

/// The deepest module of `modules` that `path` (`crate::...` or `super::...`, seen from `from`) names.
fn resolve(path: &str, from: &Module, modules: &BTreeSet<Module>) -> Option<Module> {
    let mut parts = path.split("::").filter(|p| !p.is_empty());
    let mut base: Module = Vec::new();
    match parts.next()? {
        "crate" => {}
        "super" => {
            base = from.clone();
            base.pop();
            for part in parts.by_ref() {
                if part == "super" {
                    base.pop();
                } else {
                    base.push(part.to_string());
                    break;
                }
            }
        }
        _ => return None,
    }
    base.extend(parts.map(str::to_string));
    while !base.is_empty() && !modules.contains(&base) {
        base.pop();
    }
    Some(base)
}

fn layer(module: &Module) -> Option<usize> {
    let first = module.first()?;
    LAYERS.iter().position(|l| l == first)
}

#[test]
fn layers_import_downward_and_no_file_imports_in_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files: Vec<PathBuf> = sources(&src)
        .into_iter()
        .filter(|f| !f.starts_with(src.join("bin")))
        .collect();
    let modules: BTreeSet<Module> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut imports: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    let mut problems = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        let is_mod_rs = file.ends_with("mod.rs") || file.ends_with("lib.rs");
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        let mut targets = BTreeSet::new();
        for path in paths_of(&code) {
            let Some(target) = resolve(&path, &module, &modules) else {
                continue;
            };
            if target == module || module.is_empty() {
                continue;
            }
            // The command, the top layer, may use the crate root's re-exports as any user does.
            if target.is_empty() {
                if module.first().is_none_or(|m| m != "cli") {
                    let module = module.join("::");
                    problems.push(format!("{module}: {path} goes through the crate root"));
                }
                continue;
            }
            // A file inside a folder names its sibling, not the folder's re-exports.
            if !is_mod_rs && module.starts_with(&target) {
                problems.push(format!(
                    "{}: {path} goes through its own folder's re-exports",
                    module.join("::")
                ));
                continue;
            }
            targets.insert(target);
        }
        for target in &targets {
            if let (Some(from), Some(to)) = (layer(&module), layer(target)) {
                if to > from {
                    problems.push(format!(
                        "{} imports {} from the layer above ({} > {})",
                        module.join("::"),
                        target.join("::"),
                        LAYERS[to],
                        LAYERS[from]
                    ));
                }
            }
        }
        // A folder stands for what it holds: its `mod.rs` leads to each of its files.
        if is_mod_rs {
            targets.extend(
                modules
                    .iter()
                    .filter(|m| m.len() == module.len() + 1 && m.starts_with(&module))
                    .cloned(),
            );
        }
        imports.insert(module, targets);
    }
    for (module, targets) in &imports {
        let names: Vec<String> = targets
            .iter()
            .filter(|t| !t.starts_with(module))
            .map(|t| t.join("::"))
            .collect();
        println!("{:<28} {}", module.join("::"), names.join(", "));
    }
    // Circles: a depth-first walk over the imports between files, a folder's re-exporting `mod.rs`
    // standing for nothing of its own.
    let mut state: BTreeMap<&Module, u8> = BTreeMap::new();
    fn visit<'m>(
        module: &'m Module,
        imports: &'m BTreeMap<Module, BTreeSet<Module>>,
        state: &mut BTreeMap<&'m Module, u8>,
        path: &mut Vec<&'m Module>,
        problems: &mut Vec<String>,
    ) {
        match state.get(module) {
            Some(1) => {
                let start = path.iter().position(|m| *m == module).unwrap_or(0);
                let circle: Vec<String> = path[start..].iter().map(|m| m.join("::")).collect();
                problems.push(format!(
                    "import circle: {} -> {}",
                    circle.join(" -> "),
                    module.join("::")
                ));
                return;
            }
            Some(_) => return,
            None => {}
        }
        state.insert(module, 1);
        path.push(module);
        for target in imports.get(module).into_iter().flatten() {
            visit(target, imports, state, path, problems);
        }
        path.pop();
        state.insert(module, 2);
    }
    for module in imports.keys() {
        visit(module, &imports, &mut state, &mut Vec::new(), &mut problems);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(imports.len() > 20, "{} modules read", imports.len());
}

#[test]
fn the_command_holds_no_format_knowledge() {
    // The `pyc` command reaches the library through its public tools, never the decoders or the
    // format tables themselves.
    let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli");
    for file in sources(&cli) {
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        for forbidden in [
            "pycmarshal::format",
            "pycmarshal::object",
            "read::dialect",
            "0x0d0a",
        ] {
            assert!(
                !code.contains(forbidden),
                "{}: uses {forbidden}",
                file.display()
            );
        }
    }
}
