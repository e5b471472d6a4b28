// SPDX-License-Identifier: GPL-2.0

//! `rloop-raw` end to end without the kernel module: `/dev/null` stands in
//! for the control node (every ioctl on it fails with ENOTTY), which
//! exercises the setup and the reporting.

use std::process::{Command, Output};

fn raw(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rloop-raw"))
        .args(args)
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn reports_errno_names() {
    for args in [
        &["create", "--control", "/dev/null"][..],
        &["create", "--control", "/dev/null", "--file", "pipe:"],
        &["create", "--control", "/dev/null", "--file", "socket:"],
        &["create", "--control", "/dev/null", "--file", "memfd:"],
        &[
            "create",
            "--control",
            "/dev/null",
            "--file",
            "/",
            "--open",
            "dir",
        ],
        &[
            "create",
            "--control",
            "/dev/null",
            "--file",
            "/",
            "--open",
            "path",
        ],
        &[
            "create",
            "--control",
            "/dev/null",
            "--file",
            "/proc/version",
            "--open",
            "ro",
        ],
        &[
            "create",
            "--control",
            "/dev/null",
            "--fd",
            "9999",
            "--size",
            "0",
        ],
        &["create", "--control", "/dev/null", "--cmd-size", "64"],
        &[
            "create",
            "--control",
            "/dev/null",
            "--cmd-size",
            "80",
            "--tail-fill",
            "0xff",
        ],
        &[
            "create",
            "--control",
            "/dev/null",
            "--cmd",
            "0x4ca0",
            "--null-arg",
        ],
        &[
            "create",
            "--control",
            "/dev/null",
            "--reserved",
            "3=1",
            "--reserved0",
            "-1",
        ],
        &["remove", "--control", "/dev/null", "0"],
        &["remove", "--control", "/dev/null", "-1"],
        &["ioctl", "/dev/null", "0x4ca2"],
        &["ioctl", "/dev/null", "0x4ca1", "-1"],
        &["ioctl", "/dev/null", "19617"],
    ] {
        let o = raw(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", err(&o));
        assert_eq!(out(&o), "err ENOTTY\n", "{args:?}");
    }
}

#[test]
fn ok_with_buffer() {
    // FIGETBSZ (_IO(0x00, 2)) on a regular file writes its block size (an
    // int) through the pointer: `ok 0` and four bytes of hex.
    let o = raw(&["ioctl", "/proc/self/exe", "2", "--buf", "4", "--open", "ro"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let s = out(&o);
    assert!(s.starts_with("ok 0 "), "{s}");
    assert_eq!(s.trim_end().len(), "ok 0 ".len() + 8, "{s}");
}

#[test]
fn setup_failures_exit_3() {
    let o = raw(&["create", "--control", "/nonexistent/rloop-control"]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(
        err(&o),
        "rloop-raw: /nonexistent/rloop-control: No such file or directory\n"
    );
    assert_eq!(out(&o), "");
    let o = raw(&["create", "--control", "/dev/null", "--file", "/nonexistent"]);
    assert_eq!(o.status.code(), Some(3));
    let o = raw(&["remove", "--control", "/nonexistent", "1"]);
    assert_eq!(o.status.code(), Some(3));
    let o = raw(&[
        "fuzz",
        "--seed",
        "1",
        "--count",
        "1",
        "--control",
        "/nonexistent",
    ]);
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["create", "--cmd-size", "16384"][..],
        &["create", "--fd", "x"],
        &["create", "--open", "rwx"],
        &["create", "--reserved", "9=1"],
        &["create", "--tail-fill", "1"],
        &["create", "--tail-fill", "256", "--cmd-size", "80"],
        &["remove"],
        &["ioctl", "/dev/null"],
        &["ioctl", "/dev/null", "1", "2", "--buf", "4"],
        &["fuzz", "--count", "1"],
        &["bogus"],
    ] {
        let o = raw(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
    }
    for args in [&["--help"][..], &["create", "--help"], &["fuzz", "--help"]] {
        assert_eq!(raw(args).status.code(), Some(0));
    }
}

#[test]
fn fuzz_is_deterministic() {
    let run = |seed: &str| {
        let o = raw(&[
            "fuzz",
            "--seed",
            seed,
            "--count",
            "200",
            "--control",
            "/dev/null",
            "--dev",
            "/dev/null",
            "-v",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        assert_eq!(out(&o), "fuzz: 200 calls, 0 creates succeeded\n");
        // Drop the addresses, which move with ASLR.
        err(&o)
            .lines()
            .map(|l| l.split(" arg=").next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let a = run("7");
    assert_eq!(a.len(), 200);
    assert_eq!(a, run("7"));
    assert_ne!(a, run("8"));
}
