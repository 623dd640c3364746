//! Code-block languages: Notion's names ⇄ Markdown fence info strings.

/// Notion names that differ from the usual fence name, as (Notion, Markdown).
const RENAMED: &[(&str, &str)] = &[
    ("plain text", ""),
    ("c++", "cpp"),
    ("c#", "csharp"),
    ("f#", "fsharp"),
    ("objective-c", "objectivec"),
    ("vb.net", "vbnet"),
    ("visual basic", "vb"),
    ("ascii art", "ascii-art"),
    ("llvm ir", "llvm"),
    ("notion formula", "notion-formula"),
    ("java/c/c++/c#", "java-c-cpp-csharp"),
    ("docker", "dockerfile"),
    ("webassembly", "wasm"),
];

/// Every language Notion accepts (besides the renamed ones above).
const NOTION: &[&str] = &[
    "abap",
    "abc",
    "agda",
    "arduino",
    "assembly",
    "bash",
    "basic",
    "bnf",
    "c",
    "clojure",
    "coffeescript",
    "coq",
    "css",
    "dart",
    "dhall",
    "diff",
    "ebnf",
    "elixir",
    "elm",
    "erlang",
    "flow",
    "fortran",
    "gherkin",
    "glsl",
    "go",
    "graphql",
    "groovy",
    "haskell",
    "hcl",
    "html",
    "idris",
    "java",
    "javascript",
    "json",
    "julia",
    "kotlin",
    "latex",
    "less",
    "lisp",
    "livescript",
    "lua",
    "makefile",
    "markdown",
    "markup",
    "matlab",
    "mathematica",
    "mermaid",
    "nix",
    "ocaml",
    "pascal",
    "perl",
    "php",
    "powershell",
    "prolog",
    "protobuf",
    "purescript",
    "python",
    "r",
    "racket",
    "reason",
    "ruby",
    "rust",
    "sass",
    "scala",
    "scheme",
    "scss",
    "shell",
    "smalltalk",
    "solidity",
    "sql",
    "swift",
    "toml",
    "typescript",
    "verilog",
    "vhdl",
    "xml",
    "yaml",
];

/// Common fence aliases, as (alias, Notion).
const ALIASES: &[(&str, &str)] = &[
    ("text", "plain text"),
    ("txt", "plain text"),
    ("plaintext", "plain text"),
    ("js", "javascript"),
    ("jsx", "javascript"),
    ("mjs", "javascript"),
    ("ts", "typescript"),
    ("tsx", "typescript"),
    ("py", "python"),
    ("rs", "rust"),
    ("sh", "shell"),
    ("zsh", "shell"),
    ("console", "shell"),
    ("yml", "yaml"),
    ("md", "markdown"),
    ("golang", "go"),
    ("rb", "ruby"),
    ("kt", "kotlin"),
    ("tex", "latex"),
    ("hs", "haskell"),
    ("cs", "c#"),
    ("c++", "c++"),
    ("cc", "c++"),
    ("h", "c"),
    ("objc", "objective-c"),
    ("proto", "protobuf"),
    ("make", "makefile"),
    ("ps1", "powershell"),
    ("pwsh", "powershell"),
    ("ex", "elixir"),
    ("erl", "erlang"),
    ("clj", "clojure"),
    ("pl", "perl"),
    ("htm", "html"),
    ("svg", "xml"),
    ("tf", "hcl"),
    ("gql", "graphql"),
    ("patch", "diff"),
    ("jl", "julia"),
    ("math", "latex"),
    ("katex", "latex"),
    ("vb", "visual basic"),
];

/// The fence info string for a Notion language (`plain text` → empty, `c++` → `cpp`, …).
/// Unknown names are passed through, lower-cased spaces replaced by `-`.
pub fn language_to_markdown(notion: &str) -> std::borrow::Cow<'_, str> {
    if let Some((_, md)) = RENAMED.iter().find(|(n, _)| *n == notion) {
        return (*md).into();
    }
    if notion.contains(' ') {
        return notion.replace(' ', "-").into();
    }
    notion.into()
}

/// The Notion language for a fence info string (its first word, case-insensitive); anything
/// unknown becomes `plain text`, which Notion always accepts.
pub fn language_from_markdown(info: &str) -> &'static str {
    let word = info.split_whitespace().next().unwrap_or("");
    let lower = word.to_ascii_lowercase();
    if lower.is_empty() {
        return "plain text";
    }
    if let Some((n, _)) = RENAMED.iter().find(|(_, md)| *md == lower) {
        return n;
    }
    if let Some(n) = NOTION.iter().find(|n| **n == lower) {
        return n;
    }
    if let Some((n, _)) = RENAMED.iter().find(|(n, _)| *n == lower) {
        return n;
    }
    if let Some((_, n)) = ALIASES.iter().find(|(a, _)| *a == lower) {
        return n;
    }
    "plain text"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notion_language_round_trips() {
        for n in NOTION.iter().chain(RENAMED.iter().map(|(n, _)| n)) {
            assert_eq!(language_from_markdown(&language_to_markdown(n)), *n, "{n}");
        }
        assert_eq!(language_from_markdown("JS"), "javascript");
        assert_eq!(language_from_markdown("nonsense"), "plain text");
        assert_eq!(language_to_markdown("plain text"), "");
    }
}
