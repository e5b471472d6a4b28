// SPDX-License-Identifier: GPL-2.0

//! The module's pure rules (`rloop_rules.rs`) at their edges: the same code the kernel
//! module runs, built for the host.

use rloopctl::rules::{
    caller_errno, check_window, choose_block_size, errno, io_outcome, parse_linger_us, resized_len,
    valid_block_size, window_len, FilePos, IoOutcome, LingerWindow, Refusal, LINGER_US_MAX,
};

const PAGE: u32 = 4096;

#[test]
fn block_sizes_are_powers_of_two_up_to_the_page() {
    for ok in [512, 1024, 2048, 4096] {
        assert!(valid_block_size(ok, PAGE), "{ok}");
    }
    for bad in [0, 1, 256, 511, 513, 3072, 8192, u32::MAX] {
        assert!(!valid_block_size(bad, PAGE), "{bad}");
    }
    assert!(valid_block_size(65536, 65536));
}

#[test]
fn block_size_inherits_and_never_goes_below_the_file() {
    assert_eq!(choose_block_size(0, 4096, PAGE), Ok(4096));
    assert_eq!(choose_block_size(0, 512, PAGE), Ok(512));
    assert_eq!(choose_block_size(4096, 512, PAGE), Ok(4096));
    assert!(matches!(
        choose_block_size(512, 4096, PAGE),
        Err(Refusal::Invalid(_))
    ));
    assert!(matches!(
        choose_block_size(1000, 512, PAGE),
        Err(Refusal::Invalid(_))
    ));
    assert!(matches!(
        choose_block_size(8192, 512, PAGE),
        Err(Refusal::Invalid(_))
    ));
    // A file system whose alignment is no block size cannot back a disk.
    assert!(matches!(
        choose_block_size(0, 8192, PAGE),
        Err(Refusal::Invalid(_))
    ));
    assert!(matches!(
        choose_block_size(0, 0, PAGE),
        Err(Refusal::Invalid(_))
    ));
}

#[test]
fn window_must_fit_in_file_positions() {
    assert_eq!(
        check_window(0, 0),
        FilePos::new(0).ok_or(Refusal::Invalid(""))
    );
    let max = i64::MAX as u64;
    assert_eq!(check_window(max, 0).map(FilePos::bytes), Ok(max));
    assert!(matches!(
        check_window(max + 1, 0),
        Err(Refusal::Overflow(_))
    ));
    assert!(matches!(check_window(max, 1), Err(Refusal::Overflow(_))));
    assert!(matches!(
        check_window(1, u64::MAX),
        Err(Refusal::Overflow(_))
    ));
    assert!(check_window(max - 10, 10).is_ok());
    assert!(matches!(
        check_window(u64::MAX, 0),
        Err(Refusal::Overflow(_))
    ));
}

#[test]
fn window_len_is_whole_blocks_inside_the_file() {
    let mib = 1 << 20;
    assert_eq!(window_len(16 * mib, 0, 0, 512), Ok(16 * mib));
    assert_eq!(window_len(16 * mib, mib, 0, 4096), Ok(15 * mib));
    assert_eq!(window_len(16 * mib, mib, 4096, 4096), Ok(4096));
    // A limit past the end is the end; a partial last block is left out.
    assert_eq!(window_len(16 * mib, 0, 32 * mib, 4096), Ok(16 * mib));
    assert_eq!(window_len(10_000, 0, 0, 4096), Ok(8192));
    assert_eq!(window_len(10_000, 0, 5000, 512), Ok(4608));
    assert!(matches!(
        window_len(16 * mib, 512, 0, 4096),
        Err(Refusal::Invalid(_))
    ));
    assert!(matches!(
        window_len(16 * mib, 16 * mib, 0, 512),
        Err(Refusal::Invalid(_))
    ));
    assert!(matches!(
        window_len(100, 0, 0, 512),
        Err(Refusal::Invalid(_))
    ));
    assert!(matches!(window_len(0, 0, 0, 512), Err(Refusal::Invalid(_))));
    assert!(matches!(
        window_len(4096, 0, 100, 512),
        Err(Refusal::Invalid(_))
    ));
    assert!(matches!(
        window_len(4096, 0, 0, 0),
        Err(Refusal::Invalid(_))
    ));
    assert_eq!(window_len(u64::MAX, 0, 0, 4096), Ok(u64::MAX - 4095));
}

#[test]
fn resize_of_a_shrunk_file_gives_zero() {
    assert_eq!(resized_len(8192, 4096, 0, 4096), 4096);
    assert_eq!(resized_len(4096, 4096, 0, 4096), 0);
    assert_eq!(resized_len(0, 0, 0, 512), 0);
    assert_eq!(resized_len(1 << 30, 0, 1 << 20, 512), 1 << 20);
}

#[test]
fn file_positions_of_sectors() {
    let base = FilePos::new(1 << 20).unwrap();
    assert_eq!(base.of_sector(0), Some(base));
    assert_eq!(base.of_sector(2).map(FilePos::get), Some((1 << 20) + 1024));
    assert_eq!(FilePos::new(0).unwrap().of_sector(u64::MAX), None);
    assert_eq!(FilePos::new(0).unwrap().of_sector(u64::MAX / 512), None);
    let last = (i64::MAX as u64) / 512;
    assert!(FilePos::new(0).unwrap().of_sector(last).is_some());
    assert!(FilePos::new(511).unwrap().of_sector(last).is_some());
    assert_eq!(FilePos::new(512).unwrap().of_sector(last), None);
    assert_eq!(FilePos::new(u64::MAX), None);
    assert_eq!(
        FilePos::new(i64::MAX as u64).map(FilePos::get),
        Some(i64::MAX)
    );
}

#[test]
fn backing_file_results_map_to_bio_outcomes() {
    assert_eq!(io_outcome(4096, 4096), IoOutcome::Done);
    assert_eq!(io_outcome(0, 0), IoOutcome::Done);
    // Short transfers, and too long ones, are errors.
    assert_eq!(io_outcome(4096, 512), IoOutcome::Failed(errno::EIO));
    assert_eq!(io_outcome(4096, 0), IoOutcome::Failed(errno::EIO));
    assert_eq!(io_outcome(4096, 8192), IoOutcome::Failed(errno::EIO));
    // The file's transient states are I/O errors to the submitter.
    for transient in [errno::EAGAIN, errno::ENOMEM, errno::EBUSY] {
        assert_eq!(
            io_outcome(4096, -(transient as isize)),
            IoOutcome::Failed(errno::EIO)
        );
    }
    // Others pass through (ENOSPC = 28, EOPNOTSUPP = 95, EINVAL).
    assert_eq!(io_outcome(4096, -28), IoOutcome::Failed(28));
    assert_eq!(io_outcome(4096, -95), IoOutcome::Failed(95));
    assert_eq!(
        io_outcome(512, -(errno::EINVAL as isize)),
        IoOutcome::Failed(errno::EINVAL)
    );
    assert_eq!(io_outcome(512, isize::MIN), IoOutcome::Failed(errno::EIO));
    assert_eq!(io_outcome(u32::MAX, u32::MAX as isize), IoOutcome::Done);
    assert_eq!(io_outcome(512, -4096), IoOutcome::Failed(errno::EIO));
}

#[test]
fn fsync_and_fallocate_errors_map_as_reads_and_writes_do() {
    for transient in [errno::EAGAIN, errno::ENOMEM, errno::EBUSY] {
        assert_eq!(caller_errno(transient), errno::EIO);
    }
    assert_eq!(caller_errno(28), 28);
    assert_eq!(caller_errno(95), 95);
    for not_an_errno in [0, -5, 4096, i32::MAX, i32::MIN] {
        assert_eq!(caller_errno(not_an_errno), errno::EIO);
    }
}

#[test]
fn refusals_say_which_rule() {
    let Err(r) = window_len(4096, 100, 0, 512) else {
        panic!("an unaligned offset was taken");
    };
    assert!(
        r.rule().contains("multiple of the block size"),
        "{}",
        r.rule()
    );
}

#[test]
fn linger_us_takes_0_to_the_max_and_nothing_else() {
    assert_eq!(parse_linger_us(b"0"), Ok(0));
    assert_eq!(parse_linger_us(b"50\n"), Ok(50));
    assert_eq!(parse_linger_us(b"1000"), Ok(LINGER_US_MAX));
    for bad in [
        &b""[..],
        b"\n",
        b"1001",
        b"-1",
        b"+5",
        b" 5",
        b"5 ",
        b"5\n\n",
        b"0x10",
        b"99999",
        b"4294967296",
        b"abc",
    ] {
        assert!(
            matches!(parse_linger_us(bad), Err(Refusal::Invalid(_))),
            "{:?} was taken",
            core::str::from_utf8(bad)
        );
    }
}

#[test]
fn linger_window_is_nothing_until_a_gap_is_seen() {
    let w = LingerWindow::new();
    assert_eq!(w.avg_gap_ns(), None);
    assert_eq!(w.window_ns(50_000), 0);
    assert_eq!(LingerWindow::from_bits(w.to_bits()), w);
}

#[test]
fn linger_window_is_twice_the_gap_within_the_cap() {
    let w = LingerWindow::new().learn(10_000);
    assert_eq!(w.window_ns(50_000), 20_000);
    // Above half the cap: the cap.
    let w = LingerWindow::new().learn(40_000);
    assert_eq!(w.window_ns(50_000), 50_000);
    // Above the cap: no polling at all.
    let w = LingerWindow::new().learn(60_000);
    assert_eq!(w.window_ns(50_000), 0);
    // A cap of 0 turns it off whatever the gaps.
    assert_eq!(LingerWindow::new().learn(1).window_ns(0), 0);
}

#[test]
fn linger_window_closes_when_bios_stop_coming_and_reopens() {
    let cap = 50_000;
    let mut w = LingerWindow::new();
    for _ in 0..20 {
        w = w.learn(8_000);
    }
    assert_eq!(w.window_ns(cap), 16_000);
    // One idle second is enough to stop polling.
    w = w.learn(1_000_000_000);
    assert_eq!(w.window_ns(cap), 0);
    // Days of idleness weigh as a second: no overflow, and steady short gaps bring the
    // window back within a bounded number of bios.
    w = w.learn(u64::MAX);
    let mut n = 0;
    while w.window_ns(cap) == 0 {
        w = w.learn(8_000);
        n += 1;
        assert!(n < 100, "window never reopened");
    }
    assert!(w.window_ns(cap) <= cap);
}
