// SPDX-License-Identifier: GPL-2.0

//! The ABI as the Rust definition (`uapi/rloop_uapi.rs`) and its C rendering
//! (`uapi/linux/rloop.h`) lay it out.

use core::mem::{align_of, offset_of, size_of};
use std::path::PathBuf;
use std::process::Command;

use rloopctl::abi::{self, RloopConfig};
use rloopctl::sys;

/// `(name, Rust value)` of everything the C program prints.
fn rust_values() -> Vec<(&'static str, u64)> {
    vec![
        ("sizeof", size_of::<RloopConfig>() as u64),
        ("alignof", align_of::<RloopConfig>() as u64),
        ("size", offset_of!(RloopConfig, size) as u64),
        ("flags", offset_of!(RloopConfig, flags) as u64),
        ("fd", offset_of!(RloopConfig, fd) as u64),
        ("block_size", offset_of!(RloopConfig, block_size) as u64),
        ("offset", offset_of!(RloopConfig, offset) as u64),
        ("sizelimit", offset_of!(RloopConfig, sizelimit) as u64),
        ("index", offset_of!(RloopConfig, index) as u64),
        ("reserved0", offset_of!(RloopConfig, reserved0) as u64),
        ("reserved", offset_of!(RloopConfig, reserved) as u64),
        ("RLOOP_CONFIG_SIZE_V1", abi::RLOOP_CONFIG_SIZE_V1.into()),
        ("RLOOP_CTL_CREATE", sys::RLOOP_CTL_CREATE.into()),
        ("RLOOP_CTL_REMOVE", sys::RLOOP_CTL_REMOVE.into()),
        ("RLOOP_CTL_DETACH", sys::RLOOP_CTL_DETACH.into()),
        ("RLOOP_SET_CAPACITY", sys::RLOOP_SET_CAPACITY.into()),
        ("RLOOP_FLAG_READ_ONLY", abi::RLOOP_FLAG_READ_ONLY.into()),
        ("RLOOP_FLAG_AUTOCLEAR", abi::RLOOP_FLAG_AUTOCLEAR.into()),
        ("RLOOP_FLAG_PARTSCAN", abi::RLOOP_FLAG_PARTSCAN.into()),
        ("RLOOP_FLAGS_ALL", abi::RLOOP_FLAGS_ALL.into()),
    ]
}

#[test]
fn struct_layout() {
    assert_eq!(size_of::<RloopConfig>(), 72);
    assert_eq!(align_of::<RloopConfig>(), 8);
    assert_eq!(offset_of!(RloopConfig, size), 0);
    assert_eq!(offset_of!(RloopConfig, flags), 4);
    assert_eq!(offset_of!(RloopConfig, fd), 8);
    assert_eq!(offset_of!(RloopConfig, block_size), 12);
    assert_eq!(offset_of!(RloopConfig, offset), 16);
    assert_eq!(offset_of!(RloopConfig, sizelimit), 24);
    assert_eq!(offset_of!(RloopConfig, index), 32);
    assert_eq!(offset_of!(RloopConfig, reserved0), 36);
    assert_eq!(offset_of!(RloopConfig, reserved), 40);
    assert_eq!(size_of::<[u64; 4]>(), 72 - 40);
    assert_eq!(abi::RLOOP_CONFIG_SIZE_V1, 72);
}

#[test]
fn ioctl_numbers() {
    // x86-64's encoding; the tests in the guest use these literals.
    assert_eq!(sys::RLOOP_CTL_CREATE, 0xc048_d100);
    assert_eq!(sys::RLOOP_CTL_REMOVE, 0xd101);
    assert_eq!(sys::RLOOP_SET_CAPACITY, 0xd102);
    assert_eq!(sys::RLOOP_CTL_DETACH, 0xd103);
    // Not loop's 'L': a type of rloop's own.
    assert_eq!(abi::RLOOP_IOCTL_TYPE, 0xd1);
}

#[test]
fn flags() {
    // loop's LO_FLAGS_* values.
    assert_eq!(abi::RLOOP_FLAG_READ_ONLY, 1);
    assert_eq!(abi::RLOOP_FLAG_AUTOCLEAR, 4);
    assert_eq!(abi::RLOOP_FLAG_PARTSCAN, 8);
    assert_eq!(abi::RLOOP_FLAGS_ALL, 13);
    assert_eq!(abi::RLOOP_CONTROL_NAME, "rloop-control");
    assert_eq!(abi::RLOOP_DISK_PREFIX, "rloop");
}

/// Compiles a C program against `uapi/linux/rloop.h` and compares what it
/// prints with the Rust definition. Skipped (with a note) without `cc`.
#[test]
fn c_header_matches() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let uapi = manifest.join("../../uapi");
    assert!(
        uapi.join("linux/rloop.h").is_file(),
        "{} missing",
        uapi.display()
    );
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let src = dir.join("layout.c");
    let exe = dir.join("layout");

    let mut c = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include <linux/rloop.h>\n\
         #define P(name, v) printf(\"%s %llu\\n\", name, (unsigned long long)(v))\n\
         int main(void)\n{\n\
         \tP(\"sizeof\", sizeof(struct rloop_config));\n\
         \tP(\"alignof\", _Alignof(struct rloop_config));\n",
    );
    for (name, _) in rust_values() {
        if name == "sizeof" || name == "alignof" {
            continue;
        }
        if name.starts_with("RLOOP_") {
            c.push_str(&format!("\tP(\"{name}\", {name});\n"));
        } else {
            c.push_str(&format!(
                "\tP(\"{name}\", offsetof(struct rloop_config, {name}));\n"
            ));
        }
    }
    // Field sizes and signedness too.
    c.push_str(
        "\tP(\"fd_signed\", ((struct rloop_config){.fd = -1}).fd < 0);\n\
         \tP(\"reserved_len\", sizeof(((struct rloop_config *)0)->reserved) / 8);\n\
         \treturn 0;\n}\n",
    );
    std::fs::write(&src, c).unwrap();

    let status = match Command::new(&cc)
        .arg("-std=c11")
        .arg("-Wall")
        .arg("-Werror")
        .arg("-I")
        .arg(&uapi)
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .status()
    {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("note: no C compiler ({cc}); skipping the C header layout check");
            return;
        }
        Err(e) => panic!("running {cc}: {e}"),
    };
    assert!(status.success(), "{cc} failed to compile {}", src.display());

    let output = Command::new(&exe).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let c_values: Vec<(String, u64)> = text
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect();

    let mut want: Vec<(String, u64)> = rust_values()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    want.push(("fd_signed".into(), 1));
    want.push(("reserved_len".into(), 4));
    assert_eq!(c_values, want);
}
