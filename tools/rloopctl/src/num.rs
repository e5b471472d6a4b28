// SPDX-License-Identifier: GPL-2.0

//! Numbers for the fields of a raw request, as `rloop-raw` takes them on its
//! command line: decimal or `0x` hexadecimal, optionally negative; a
//! negative value is taken in two's complement of the field's width, so `-1`
//! fills every bit. (Sizes as losetup takes them are [`crate::size`].)

/// Parses into an `i128`, then checks the value fits `bits` bits either as
/// an unsigned or as a signed number; returns the bit pattern.
fn parse_bits(s: &str, bits: u32) -> Result<u128, String> {
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u128::from_str_radix(h, 16)
    } else {
        t.parse::<u128>()
    }
    .map_err(|_| format!("not a number: {s:?} (decimal or 0x-hex)"))?;
    let max_unsigned = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    let mask = max_unsigned;
    if neg {
        let min_mag = 1u128 << (bits - 1);
        if v > min_mag {
            return Err(format!("{s} does not fit in {bits} bits"));
        }
        Ok(v.wrapping_neg() & mask)
    } else {
        if v > max_unsigned {
            return Err(format!("{s} does not fit in {bits} bits"));
        }
        Ok(v)
    }
}

/// A 32-bit field.
pub fn parse_u32(s: &str) -> Result<u32, String> {
    parse_bits(s, 32).map(|v| v as u32)
}

/// A 32-bit signed field (`fd`): the same bit patterns as [`parse_u32`].
pub fn parse_i32(s: &str) -> Result<i32, String> {
    parse_bits(s, 32).map(|v| v as u32 as i32)
}

/// A 64-bit field.
pub fn parse_u64(s: &str) -> Result<u64, String> {
    parse_bits(s, 64).map(|v| v as u64)
}

/// An ioctl's integer argument (`unsigned long`).
pub fn parse_usize(s: &str) -> Result<usize, String> {
    parse_bits(s, usize::BITS).map(|v| v as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_u32("0"), Ok(0));
        assert_eq!(parse_u32("72"), Ok(72));
        assert_eq!(parse_u32("0x48"), Ok(72));
        assert_eq!(parse_u32("0XfFfFfFfF"), Ok(u32::MAX));
        assert_eq!(parse_u32("-1"), Ok(u32::MAX));
        assert_eq!(parse_u32("-2147483648"), Ok(0x8000_0000));
        assert!(parse_u32("-2147483649").is_err());
        assert!(parse_u32("4294967296").is_err());
        assert!(parse_u32("1K").is_err());
        assert!(parse_u32("").is_err());
        assert_eq!(parse_i32("-1"), Ok(-1));
        assert_eq!(parse_i32("9999"), Ok(9999));
        assert_eq!(parse_i32("0xffffffff"), Ok(-1));
        assert_eq!(parse_u64("-1"), Ok(u64::MAX));
        assert_eq!(parse_u64("18446744073709551615"), Ok(u64::MAX));
        assert!(parse_u64("18446744073709551616").is_err());
        assert_eq!(parse_u64("0x8000000000000000"), Ok(1 << 63));
        assert_eq!(parse_usize("-1"), Ok(usize::MAX));
        assert_eq!(parse_usize("0x100000000"), Ok(1 << 32));
    }
}
