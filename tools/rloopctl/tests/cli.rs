// SPDX-License-Identifier: GPL-2.0

//! The `rloopctl` binary end to end, against a fake sysfs tree (through
//! `RLOOPCTL_SYSFS`) and without the kernel module.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Output};

fn rloopctl(sysfs: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rloopctl"))
        .env("RLOOPCTL_SYSFS", sysfs)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn fake(sys: &Path, index: u32, file: &str, ino: u64, bdev: &str, offset: u64, ro: bool) {
    let d = sys.join(format!("block/rloop{index}"));
    let r = d.join("rloop");
    fs::create_dir_all(&r).unwrap();
    fs::create_dir_all(d.join("queue")).unwrap();
    for (k, v) in [
        ("backing_file", format!("{file}\n")),
        ("backing_inode", format!("{ino}\n")),
        ("backing_dev", format!("{bdev}\n")),
        ("offset", format!("{offset}\n")),
        ("sizelimit", "0\n".into()),
        ("autoclear", "0\n".into()),
        ("partscan", "1\n".into()),
        ("dio", "1\n".into()),
    ] {
        fs::write(r.join(k), v).unwrap();
    }
    fs::write(d.join("ro"), if ro { "1\n" } else { "0\n" }).unwrap();
    fs::write(d.join("dev"), format!("252:{index}\n")).unwrap();
    fs::write(d.join("size"), "8\n").unwrap();
    fs::write(d.join("queue/logical_block_size"), "4096\n").unwrap();
}

#[test]
fn list_outputs() {
    let t = tempfile::tempdir().unwrap();
    let sys = t.path().join("sys");
    fs::create_dir_all(sys.join("block")).unwrap();
    fs::create_dir_all(sys.join("module/rloop")).unwrap();

    // No devices: no output, success.
    let o = rloopctl(&sys, &["list"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), "");

    fake(&sys, 0, "/tmp/a.img", 11, "8:1", 0, false);
    fake(&sys, 1, "/tmp/b c.img", 12, "8:1", 8192, true);

    let o = rloopctl(&sys, &["list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "\
NAME        SIZELIMIT OFFSET AUTOCLEAR RO BACK-FILE    DIO LOG-SEC
/dev/rloop0         0      0         0  0 /tmp/a.img     1    4096
/dev/rloop1         0   8192         0  1 /tmp/b c.img   1    4096
"
    );

    // Not a terminal: nothing is cut, whatever COLUMNS says.
    fake(&sys, 2, "/srv/画像/ディスク.img", 13, "8:1", 0, false);
    let o = Command::new(env!("CARGO_BIN_EXE_rloopctl"))
        .env("RLOOPCTL_SYSFS", &sys)
        .env("COLUMNS", "20")
        .args(["list", "-O", "NAME,BACK-FILE,RO", "rloop2"])
        .output()
        .unwrap();
    assert_eq!(
        stdout(&o),
        "NAME        BACK-FILE              RO\n/dev/rloop2 /srv/画像/ディスク.img  0\n"
    );
    fs::remove_dir_all(sys.join("block/rloop2")).unwrap();

    let o = rloopctl(&sys, &["list", "-n", "--raw", "-O", "NAME,back-file", "1"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "/dev/rloop1 /tmp/b\\x20c.img\n");

    let o = rloopctl(&sys, &["list", "-J", "/dev/rloop0"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["rloopdevices"][0]["name"], "/dev/rloop0");
    assert_eq!(v["rloopdevices"][0]["log-sec"], 4096);
    assert_eq!(v["rloopdevices"][0]["ro"], false);
    assert_eq!(v["rloopdevices"].as_array().unwrap().len(), 1);

    let o = rloopctl(&sys, &["list", "--output-all", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["rloopdevices"][1]["partscan"], true);
    assert_eq!(v["rloopdevices"][1]["maj:min"], "252:1");
    assert_eq!(v["rloopdevices"][1]["back-maj:min"], "8:1");
    assert_eq!(v["rloopdevices"][1]["back-ino"], 12);

    // A device that is not there: an operation failure.
    let o = rloopctl(&sys, &["list", "rloop7"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "rloopctl: /dev/rloop7: no such rloop device\n");

    // Usage errors.
    let o = rloopctl(&sys, &["list", "-O", "name,nosuch"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown column: nosuch"));
    let o = rloopctl(&sys, &["list", "sda"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn find_by_inode() {
    let t = tempfile::tempdir().unwrap();
    let sys = t.path().join("sys");
    let file = t.path().join("disk.img");
    fs::write(&file, [0u8; 512]).unwrap();
    let md = fs::metadata(&file).unwrap();
    let bdev = format!("{}:{}", libc::major(md.dev()), libc::minor(md.dev()));
    let path = file.display().to_string();
    fs::create_dir_all(sys.join("module/rloop")).unwrap();
    fake(&sys, 2, &path, md.ino(), &bdev, 4096, false);
    fake(&sys, 3, "/elsewhere", md.ino() + 1, &bdev, 0, false);

    let o = rloopctl(&sys, &["find", &path]);
    assert!(o.status.success());
    assert_eq!(
        stdout(&o),
        format!(
            "/dev/rloop2: [{:04}]:{} ({path}), offset 4096\n",
            md.dev(),
            md.ino()
        )
    );
    let o = rloopctl(&sys, &["find", "-o", "0", &path]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "");
    let o = rloopctl(&sys, &["find", "/nonexistent/file"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "rloopctl: /nonexistent/file: No such file or directory\n"
    );
}

#[test]
fn create_usage_and_refusals() {
    let t = tempfile::tempdir().unwrap();
    let sys = t.path().join("sys");
    for args in [
        &["create", "--direct-io=off", "f"][..],
        &["create", "-o", "1x", "f"],
        &["create", "-o", "-4096", "f"],
        &["create", "--sizelimit", "20E", "f"],
        &["create", "-b", "4Gi", "f"],
        &["create"],
        &["nosuchcommand"],
        &["detach"],
    ] {
        let o = rloopctl(&sys, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    for value in ["off", "auto"] {
        let o = rloopctl(&sys, &["create", &format!("--direct-io={value}"), "f"]);
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).starts_with(&format!(
                "rloopctl: invalid value '{value}' for '--direct-io[=<on>]': \
                 rloop is direct-I/O only: "
            )),
            "{}",
            stderr(&o)
        );
    }

    let o = rloopctl(&sys, &["create", "/dev/null"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "rloopctl: /dev/null: not a regular file or block device\n"
    );
    let file = t.path().join("f.img");
    fs::write(&file, vec![0u8; 8192]).unwrap();
    let p = file.display().to_string();
    // A sector size the device cannot have is the operation's failure, and
    // the module's rule says why.
    let page = rustix::param::page_size();
    for bs in ["3", "256", "3000", &(2 * page).to_string()] {
        let o = rloopctl(&sys, &["create", "-b", bs, &p]);
        assert_eq!(o.status.code(), Some(1), "-b {bs}");
        let err = stderr(&o);
        assert!(
            err.starts_with(&format!(
                "rloopctl: {p}: block size must be a power of two from 512 to the page size \
                 (sector size {bs}; page size {page}; "
            )),
            "-b {bs}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let o = rloopctl(&sys, &["create", "-b", "4096", "-o", "1K", &p]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "rloopctl: {p}: offset must be a multiple of the block size \
             (offset 1024; block size 4096, the requested block size; file size 8192)\n"
        )
    );
    let o = rloopctl(&sys, &["create", "-b", "4096", "-o", "8K", &p]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "rloopctl: {p}: offset at or beyond the end of the backing file \
             (offset 8192; block size 4096, the requested block size; file size 8192)\n"
        )
    );
}

#[test]
fn usage_errors_have_the_one_prefix() {
    let sys = Path::new("/nonexistent");
    let o = rloopctl(sys, &["create", "-o", "12Q", "f"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "rloopctl: invalid value '12Q' for '--offset <SIZE>': unknown suffix \
         (use K, M, G, T, P, E with optional iB, or KB, MB, GB, ...)\n\n\
         For more information, try '--help'.\n"
    );
    let o = rloopctl(sys, &["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("rloopctl: unrecognized subcommand 'frobnicate'\n"),
        "{}",
        stderr(&o)
    );
    let o = rloopctl(sys, &["create", "-b", "0", "f"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with(
            "rloopctl: invalid value '0' for '--sector-size <SIZE>': 0 is no sector size \
             (leave the option out to inherit the file's)\n"
        ),
        "{}",
        stderr(&o)
    );
    // A bare rloopctl shows the help (on stderr, status 2), unprefixed.
    let o = rloopctl(sys, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("Set up and control rloop devices"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn without_the_module() {
    let t = tempfile::tempdir().unwrap();
    let sys = t.path().join("sys");
    fs::create_dir_all(sys.join("block")).unwrap();
    let not_loaded = "rloopctl: rloop module not loaded\n";

    // No devices, and why: success, as losetup's empty list.
    let o = rloopctl(&sys, &["list"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), not_loaded);
    let o = rloopctl(&sys, &["list", "-J"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "{\n   \"rloopdevices\": []\n}\n");
    assert_eq!(stderr(&o), not_loaded);
    // One device asked for cannot be shown: a failure.
    let o = rloopctl(&sys, &["list", "rloop0"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), not_loaded);
    // Nothing to detach, as losetup -D: success, so cleanups go on.
    let o = rloopctl(&sys, &["detach", "--all"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), not_loaded);
}

#[test]
fn help_everywhere() {
    let sys = Path::new("/nonexistent");
    for cmd in [
        &["--help"][..],
        &["create", "--help"],
        &["detach", "--help"],
        &["list", "--help"],
        &["find", "--help"],
        &["set-capacity", "--help"],
        &["--version"],
    ] {
        let o = rloopctl(sys, cmd);
        assert!(o.status.success(), "{cmd:?}");
        assert!(!o.stdout.is_empty());
    }
    let o = rloopctl(sys, &["list", "--help"]);
    assert!(stdout(&o).contains("BACK-MAJ:MIN"));
}
