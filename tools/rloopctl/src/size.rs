// SPDX-License-Identifier: GPL-2.0

//! Sizes as `losetup` takes them (util-linux `strtosize()`).
//!
//! A size is an unsigned integer (decimal; `0x` hexadecimal and leading-`0`
//! octal as `strtoumax(..., 0)` reads them), optionally followed by a
//! fraction and a suffix:
//!
//! * `K`, `M`, `G`, `T`, `P`, `E`, `Z`, `Y` (either case), alone or followed
//!   by `iB`/`ib`: powers of 1024 (`4K`, `4KiB`, `4k`, `4kib`);
//! * the same letter followed by `B`/`b`: powers of 1000 (`4KB`, `4kb`);
//! * a fraction is allowed only with a suffix (`1.5M`).
//!
//! Leading white space is skipped; trailing garbage, a minus sign, a bare
//! `B` and anything that does not fit in 64 bits are refused.

use std::fmt;

/// Why a size was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeError {
    /// No digits where a number should start.
    NotANumber,
    /// A minus sign: sizes are never negative.
    Negative,
    /// Something after the number that is not a known suffix.
    BadSuffix,
    /// The value does not fit in 64 bits.
    Overflow,
}

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SizeError::NotANumber => "not a number",
            SizeError::Negative => "negative sizes are not allowed",
            SizeError::BadSuffix => {
                "unknown suffix (use K, M, G, T, P, E with optional iB, or KB, MB, GB, ...)"
            }
            SizeError::Overflow => "too large",
        })
    }
}

impl std::error::Error for SizeError {}

const SUFFIXES: &[u8] = b"KMGTPEZY";

/// `base` to the power `pwr`, or `None` if it overflows 128 bits.
fn power(base: u128, pwr: u32) -> Option<u128> {
    base.checked_pow(pwr)
}

/// Parses the leading unsigned integer of `s` like `strtoumax(s, &end, 0)`.
/// Returns the value (saturated flag as `None`) and the rest.
fn parse_uint(s: &str) -> Result<(Option<u64>, &str), SizeError> {
    let b = s.as_bytes();
    let (radix, start) = if b.len() > 2
        && b[0] == b'0'
        && (b[1] == b'x' || b[1] == b'X')
        && b[2].is_ascii_hexdigit()
    {
        (16, 2)
    } else if b.first() == Some(&b'0') {
        (8, 0)
    } else {
        (10, 0)
    };
    let digits = b[start..]
        .iter()
        .take_while(|c| (**c as char).is_digit(radix))
        .count();
    if digits == 0 {
        return Err(SizeError::NotANumber);
    }
    let end = start + digits;
    let value = u64::from_str_radix(&s[start..end], radix).ok();
    Ok((value, &s[end..]))
}

/// Parses a size (see the module documentation).
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    let s = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    if s.starts_with('-') {
        return Err(SizeError::Negative);
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let (value, rest) = parse_uint(s)?;
    let value = value.ok_or(SizeError::Overflow)?;
    if rest.is_empty() {
        return Ok(value);
    }

    // An optional fraction; it needs a suffix after it.
    let (frac_digits, rest) = match rest.strip_prefix('.') {
        Some(r) => {
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            if r.len() == n {
                return Err(SizeError::BadSuffix);
            }
            (&r[..n], &r[n..])
        }
        None => ("", rest),
    };

    let mut chars = rest.bytes();
    let letter = chars.next().unwrap_or(0).to_ascii_uppercase();
    let pwr = match SUFFIXES.iter().position(|c| *c == letter) {
        Some(i) => i as u32 + 1,
        None => return Err(SizeError::BadSuffix),
    };
    let base: u128 = match &rest[1..] {
        "" | "iB" | "ib" => 1024,
        "B" | "b" => 1000,
        _ => return Err(SizeError::BadSuffix),
    };

    let mult = power(base, pwr).ok_or(SizeError::Overflow)?;
    let mut total = (value as u128)
        .checked_mul(mult)
        .ok_or(SizeError::Overflow)?;
    // The fraction, exactly (truncated to whole bytes). Twelve digits are
    // plenty and keep the product inside 128 bits.
    let frac_digits = &frac_digits[..frac_digits.len().min(12)];
    if !frac_digits.is_empty() {
        let frac: u128 = frac_digits.parse().map_err(|_| SizeError::BadSuffix)?;
        let div = 10u128.pow(frac_digits.len() as u32);
        total = total
            .checked_add(frac * mult / div)
            .ok_or(SizeError::Overflow)?;
    }
    u64::try_from(total).map_err(|_| SizeError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: u64 = 1024;

    #[test]
    fn plain() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("  4096"), Ok(4096));
        assert_eq!(parse_size("+8"), Ok(8));
        assert_eq!(parse_size("0x1000"), Ok(4096));
        assert_eq!(parse_size("0X10"), Ok(16));
        assert_eq!(parse_size("010"), Ok(8)); // strtoumax base 0: octal
        assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
    }

    #[test]
    fn binary_suffixes() {
        for (s, v) in [
            ("1K", K),
            ("1k", K),
            ("1KiB", K),
            ("1Kib", K),
            ("1kiB", K),
            ("1kib", K),
            ("2M", 2 * K * K),
            ("2MiB", 2 * K * K),
            ("3G", 3 * K * K * K),
            ("3GiB", 3 * K * K * K),
            ("3g", 3 * K * K * K),
            ("1T", K.pow(4)),
            ("1TiB", K.pow(4)),
            ("1t", K.pow(4)),
            ("1P", K.pow(5)),
            ("1PiB", K.pow(5)),
            ("1E", K.pow(6)),
            ("15EiB", 15 * K.pow(6)),
            ("0x10K", 16 * K),
        ] {
            assert_eq!(parse_size(s), Ok(v), "{s}");
        }
    }

    #[test]
    fn decimal_suffixes() {
        for (s, v) in [
            ("1KB", 1000),
            ("1kB", 1000),
            ("1Kb", 1000),
            ("1kb", 1000),
            ("5MB", 5_000_000),
            ("5mb", 5_000_000),
            ("2GB", 2_000_000_000),
            ("2TB", 2_000_000_000_000),
            ("2PB", 2_000_000_000_000_000),
            ("2EB", 2_000_000_000_000_000_000),
        ] {
            assert_eq!(parse_size(s), Ok(v), "{s}");
        }
    }

    #[test]
    fn fractions() {
        assert_eq!(parse_size("1.5K"), Ok(1536));
        assert_eq!(parse_size("0.5M"), Ok(512 * K));
        assert_eq!(parse_size("1.25KB"), Ok(1250));
        assert_eq!(parse_size("1.05K"), Ok(1075));
        assert_eq!(parse_size("1.K"), Ok(1024));
        assert_eq!(parse_size("0.000001ZiB"), Ok(1_180_591_620_717_411));
        assert_eq!(parse_size("1.5"), Err(SizeError::BadSuffix));
        assert_eq!(parse_size("1."), Err(SizeError::BadSuffix));
        assert_eq!(parse_size(".5K"), Err(SizeError::NotANumber));
    }

    #[test]
    fn garbage() {
        for s in [
            "", " ", "K", "abc", "0x", "x10", "1 K", "10 ", "1KiBs", "1KIB", "1iB", "100B", "1Q",
            "1KK", "08", "1,5K", "1e3", "4K\n",
        ] {
            assert!(parse_size(s).is_err(), "{s:?} was accepted");
        }
        assert_eq!(parse_size(""), Err(SizeError::NotANumber));
        assert_eq!(parse_size("1Q"), Err(SizeError::BadSuffix));
        assert_eq!(parse_size("0x"), Err(SizeError::BadSuffix));
    }

    #[test]
    fn negative() {
        assert_eq!(parse_size("-1"), Err(SizeError::Negative));
        assert_eq!(parse_size(" -1K"), Err(SizeError::Negative));
        assert_eq!(parse_size("-0"), Err(SizeError::Negative));
        assert_eq!(parse_size("+-1"), Err(SizeError::NotANumber));
    }

    #[test]
    fn overflow() {
        assert_eq!(parse_size("18446744073709551616"), Err(SizeError::Overflow));
        assert_eq!(
            parse_size("99999999999999999999999"),
            Err(SizeError::Overflow)
        );
        assert_eq!(parse_size("16E"), Err(SizeError::Overflow));
        assert_eq!(parse_size("16EiB"), Err(SizeError::Overflow));
        assert_eq!(parse_size("1Z"), Err(SizeError::Overflow));
        assert_eq!(parse_size("1Y"), Err(SizeError::Overflow));
        assert_eq!(parse_size("0Y"), Ok(0));
        assert_eq!(
            parse_size("18446744073709551615K"),
            Err(SizeError::Overflow)
        );
        assert!(parse_size("15.9999EiB").is_ok());
        assert_eq!(parse_size("0x10000000000000000"), Err(SizeError::Overflow));
    }
}
