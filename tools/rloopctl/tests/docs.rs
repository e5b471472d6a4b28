// SPDX-License-Identifier: GPL-2.0

//! `examples/gen-docs.rs`: the man pages and completion scripts it writes,
//! at the paths the Makefile and the install script take them from.

use std::fs;
use std::path::Path;
use std::process::Command;

// The generator itself, not a copy: the test calls what `main` calls.
#[allow(dead_code)]
#[path = "../examples/gen-docs.rs"]
mod gen_docs;

const SUBCOMMANDS: [&str; 5] = ["create", "detach", "list", "find", "set-capacity"];

fn read(dir: &Path, rel: &str) -> String {
    fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn man_pages_and_completions() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path();
    let mut written = gen_docs::generate(dir).unwrap();
    written.sort();
    let mut want: Vec<_> = [
        "man8/rloopctl.8".to_string(),
        "completions/rloopctl.bash".to_string(),
        "completions/_rloopctl".to_string(),
        "completions/rloopctl.fish".to_string(),
    ]
    .into_iter()
    .chain(SUBCOMMANDS.iter().map(|s| format!("man8/rloopctl-{s}.8")))
    .map(|p| dir.join(p))
    .collect();
    want.sort();
    assert_eq!(written, want);

    let man = read(dir, "man8/rloopctl.8");
    assert!(
        man.contains("\n.TH rloopctl 8  \"rloopctl 0.1.0\" \"System Administration\"\n"),
        "section 8: {man}"
    );
    // The preamble once: the SEE ALSO section is part of the page, not a
    // second page glued on.
    assert_eq!(man.matches(".ds Aq").count(), 2, "{man}");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH SUBCOMMANDS",
        ".SH \"SEE ALSO\"",
    ] {
        assert!(man.contains(section), "{section} missing: {man}");
    }
    let see_also = &man[man.find(".SH \"SEE ALSO\"").unwrap()..];
    for s in SUBCOMMANDS {
        // roff spells a hyphen `\-`.
        let roff_name = format!("rloopctl-{s}").replace('-', "\\-");
        assert!(
            man.contains(&format!("\n{roff_name}(8)\n")),
            "{s} in SUBCOMMANDS"
        );
        assert!(
            see_also.contains(&format!("\\fB{roff_name}\\fR(8)")),
            "{s} in SEE ALSO: {see_also}"
        );
        let page = read(dir, &format!("man8/rloopctl-{s}.8"));
        assert!(page.contains(&format!(".TH rloopctl-{s} 8 ")), "{page}");
        assert!(page.contains(".SH SYNOPSIS"), "{page}");
        assert!(
            page.contains(".SH \"SEE ALSO\"\n\\fBrloopctl\\fR(8)\n"),
            "{page}"
        );
    }
    let create = read(dir, "man8/rloopctl-create.8");
    assert!(create.contains("\\-\\-sizelimit"), "{create}");

    let bash = read(dir, "completions/rloopctl.bash");
    assert!(bash.contains("complete -F"), "{bash}");
    let status = Command::new("bash")
        .arg("-n")
        .arg(dir.join("completions/rloopctl.bash"))
        .status()
        .unwrap();
    assert!(status.success(), "bash -n rloopctl.bash");
    let zsh = read(dir, "completions/_rloopctl");
    assert!(zsh.starts_with("#compdef rloopctl\n"), "{zsh}");
    let fish = read(dir, "completions/rloopctl.fish");
    assert!(fish.contains("complete -c rloopctl"), "{fish}");
    assert!(fish.contains("set-capacity"), "{fish}");
}
