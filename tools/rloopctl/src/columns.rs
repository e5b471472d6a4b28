// SPDX-License-Identifier: GPL-2.0

//! `losetup --list` columns and their rendering as a table, raw lines or
//! JSON.

use std::fmt::Write as _;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::sysfs::DeviceInfo;

/// The top-level key of the JSON output (`losetup -J` has `"loopdevices"`).
pub const JSON_KEY: &str = "rloopdevices";

/// A column of `rloopctl list`, named as in `losetup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// `NAME`: the device node.
    Name,
    /// `AUTOCLEAR`: the autoclear flag.
    Autoclear,
    /// `BACK-FILE`: the backing file.
    BackFile,
    /// `BACK-INO`: the backing file's inode number.
    BackIno,
    /// `BACK-MAJ:MIN`: the device number of the backing file's file system.
    BackMajMin,
    /// `MAJ:MIN`: the device number of the rloop disk.
    MajMin,
    /// `OFFSET`: the offset into the backing file.
    Offset,
    /// `PARTSCAN`: the partscan flag.
    Partscan,
    /// `RO`: read-only.
    Ro,
    /// `SIZELIMIT`: the size limit in bytes.
    Sizelimit,
    /// `DIO`: direct I/O to the backing file.
    Dio,
    /// `LOG-SEC`: the logical sector size.
    LogSec,
}

/// How a column's value is typed in JSON and aligned in a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Num,
    Bool,
}

impl Column {
    /// Every column, in `losetup`'s order (`--output-all`).
    pub const ALL: [Column; 12] = [
        Column::Name,
        Column::Autoclear,
        Column::BackFile,
        Column::BackIno,
        Column::BackMajMin,
        Column::MajMin,
        Column::Offset,
        Column::Partscan,
        Column::Ro,
        Column::Sizelimit,
        Column::Dio,
        Column::LogSec,
    ];

    /// The columns shown without `--output` (as `losetup --list`).
    pub const DEFAULT: [Column; 8] = [
        Column::Name,
        Column::Sizelimit,
        Column::Offset,
        Column::Autoclear,
        Column::Ro,
        Column::BackFile,
        Column::Dio,
        Column::LogSec,
    ];

    /// The column's name as in the heading (`BACK-FILE`).
    pub fn name(self) -> &'static str {
        match self {
            Column::Name => "NAME",
            Column::Autoclear => "AUTOCLEAR",
            Column::BackFile => "BACK-FILE",
            Column::BackIno => "BACK-INO",
            Column::BackMajMin => "BACK-MAJ:MIN",
            Column::MajMin => "MAJ:MIN",
            Column::Offset => "OFFSET",
            Column::Partscan => "PARTSCAN",
            Column::Ro => "RO",
            Column::Sizelimit => "SIZELIMIT",
            Column::Dio => "DIO",
            Column::LogSec => "LOG-SEC",
        }
    }

    /// The column's key in JSON output: the name in lower case.
    pub fn json_key(self) -> String {
        self.name().to_ascii_lowercase()
    }

    /// One line describing the column (for `--help`).
    pub fn description(self) -> &'static str {
        match self {
            Column::Name => "rloop device name",
            Column::Autoclear => "autoclear flag set",
            Column::BackFile => "device backing file",
            Column::BackIno => "backing file inode number",
            Column::BackMajMin => "backing file major:minor device number",
            Column::MajMin => "rloop device major:minor number",
            Column::Offset => "offset from the beginning",
            Column::Partscan => "partscan flag set",
            Column::Ro => "read-only device",
            Column::Sizelimit => "size limit of the file in bytes",
            Column::Dio => "access backing file with direct-io",
            Column::LogSec => "logical sector size in bytes",
        }
    }

    fn kind(self) -> Kind {
        match self {
            Column::Name | Column::BackFile | Column::BackMajMin | Column::MajMin => Kind::Str,
            Column::BackIno | Column::Offset | Column::Sizelimit | Column::LogSec => Kind::Num,
            Column::Autoclear | Column::Partscan | Column::Ro | Column::Dio => Kind::Bool,
        }
    }

    /// Whether the table aligns the column to the right (numbers and flags,
    /// as `losetup`).
    pub fn right_aligned(self) -> bool {
        self.kind() != Kind::Str
    }

    /// Looks a column up by name, ignoring case.
    pub fn from_name(s: &str) -> Option<Column> {
        Column::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s.trim()))
    }
}

/// Parses an `--output` list: comma-separated column names, case-insensitive.
/// A list starting with `+` adds to the default columns (`+BACK-INO`), as in
/// util-linux.
pub fn parse_columns(spec: &str) -> Result<Vec<Column>, String> {
    let (mut cols, list) = match spec.strip_prefix('+') {
        Some(rest) => (Column::DEFAULT.to_vec(), rest),
        None => (Vec::new(), spec),
    };
    for name in list.split(',') {
        match Column::from_name(name) {
            Some(c) => cols.push(c),
            None if name.trim().is_empty() => return Err("empty column name".to_string()),
            None => return Err(format!("unknown column: {}", name.trim())),
        }
    }
    Ok(cols)
}

/// The list of column names for `--help`.
pub fn columns_help() -> String {
    let mut s = String::from("Available output columns:\n");
    for c in Column::ALL {
        let _ = writeln!(s, "  {:>12}  {}", c.name(), c.description());
    }
    s
}

/// How `rloopctl list` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Aligned columns, as `losetup --list`.
    Table,
    /// Space-separated, unaligned, blanks escaped, as `losetup --raw`.
    Raw,
    /// JSON, as `losetup --json`.
    Json,
}

/// A cell's value, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// No value (shown empty, `null` in JSON).
    Missing,
    /// A string.
    Str(String),
    /// A number.
    Num(u64),
    /// A flag.
    Bool(bool),
}

fn majmin(d: Option<(u32, u32)>, format: OutputFormat, major_width: usize) -> Value {
    match d {
        None => Value::Missing,
        Some((a, b)) if format == OutputFormat::Table => {
            Value::Str(format!("{a:>major_width$}:{b:<3}"))
        }
        Some((a, b)) => Value::Str(format!("{a}:{b}")),
    }
}

/// The value of `col` for `dev`.
///
/// `format` only matters for the device numbers, which the table pads the way
/// `losetup` does (`%3u:%-3u`, `%8u:%-3u` for the backing file's).
pub fn value(dev: &DeviceInfo, col: Column, format: OutputFormat) -> Value {
    match col {
        Column::Name => Value::Str(dev.name.clone()),
        Column::Autoclear => Value::Bool(dev.autoclear),
        Column::BackFile => dev.backing_file.clone().map_or(Value::Missing, Value::Str),
        Column::BackIno => dev.backing_inode.map_or(Value::Missing, Value::Num),
        Column::BackMajMin => majmin(dev.backing_dev, format, 8),
        Column::MajMin => majmin(dev.dev, format, 3),
        Column::Offset => Value::Num(dev.offset),
        Column::Partscan => Value::Bool(dev.partscan),
        Column::Ro => Value::Bool(dev.read_only),
        Column::Sizelimit => Value::Num(dev.sizelimit),
        Column::Dio => Value::Bool(dev.dio),
        Column::LogSec => dev.log_sec.map_or(Value::Missing, |v| Value::Num(v.into())),
    }
}

/// Escapes what must not appear raw in a cell as `\xNN`: control characters
/// and backslashes, and in raw output also blanks (so a line splits on
/// spaces), as libsmartcols does.
fn escape(s: &str, blanks: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || c == '\\' || (blanks && c.is_whitespace()) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "\\x{b:02x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn text(v: &Value, format: OutputFormat) -> String {
    match v {
        Value::Missing => String::new(),
        Value::Str(s) => escape(s, format == OutputFormat::Raw),
        Value::Num(n) => n.to_string(),
        Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
    }
}

/// Renders `devs` in `format`. `headings` is `--noheadings` negated (JSON has
/// none); `width` is the terminal's, for a table on one (see
/// [`render_table`]). An empty list gives no output at all for the table and
/// raw forms and an empty array in JSON.
pub fn render(
    devs: &[DeviceInfo],
    cols: &[Column],
    format: OutputFormat,
    headings: bool,
    width: Option<usize>,
) -> String {
    match format {
        OutputFormat::Json => render_json(devs, cols),
        OutputFormat::Table | OutputFormat::Raw if devs.is_empty() => String::new(),
        OutputFormat::Table => render_table(devs, cols, headings, width),
        OutputFormat::Raw => render_raw(devs, cols, headings),
    }
}

/// The ellipsis that ends a truncated cell, as libsmartcols's.
const ELLIPSIS: &str = "\u{2026}";

/// The longest start of `s` that, with an ellipsis after it, takes at most
/// `width` columns on a terminal.
fn truncate(s: &str, width: usize) -> String {
    let room = width.saturating_sub(ELLIPSIS.width());
    let mut used = 0;
    let mut out = String::new();
    for c in s.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push_str(ELLIPSIS);
    out
}

/// Narrows the backing-file columns of a table `widths` wide so that its
/// lines fit `max` columns, if they can without cutting into a heading;
/// the other columns are short and are never cut, as in losetup.
fn fit(widths: &mut [usize], cols: &[Column], max: usize) {
    let total: usize = widths.iter().sum::<usize>() + widths.len().saturating_sub(1);
    let mut excess = total.saturating_sub(max);
    for (w, c) in widths.iter_mut().zip(cols) {
        if excess == 0 {
            break;
        }
        if *c == Column::BackFile {
            let cut = excess.min(w.saturating_sub(c.name().width()));
            *w -= cut;
            excess -= cut;
        }
    }
}

/// `losetup --list` output: columns separated by one space, numbers and flags
/// aligned right, the last column not padded on the right. Widths are
/// display widths (a CJK character takes two columns). With `width` (the
/// terminal's, when stdout is one) the backing file is cut short, ending in
/// an ellipsis, for each line to fit; without, nothing is cut, so that a
/// pipe gets every name whole.
pub fn render_table(
    devs: &[DeviceInfo],
    cols: &[Column],
    headings: bool,
    width: Option<usize>,
) -> String {
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(devs.len() + 1);
    if headings {
        rows.push(cols.iter().map(|c| c.name().to_string()).collect());
    }
    for d in devs {
        rows.push(
            cols.iter()
                .map(|c| text(&value(d, *c, OutputFormat::Table), OutputFormat::Table))
                .collect(),
        );
    }
    let mut widths: Vec<usize> = (0..cols.len())
        .map(|i| rows.iter().map(|r| r[i].width()).max().unwrap_or(0))
        .collect();
    if let Some(max) = width {
        fit(&mut widths, cols, max);
        for r in &mut rows {
            for (cell, w) in r.iter_mut().zip(&widths) {
                if cell.width() > *w {
                    *cell = truncate(cell, *w);
                }
            }
        }
    }
    let mut out = String::new();
    for r in &rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            if i > 0 {
                line.push(' ');
            }
            // A cut cell may fall a column short (half a wide character).
            let pad = widths[i].saturating_sub(cell.width());
            let last = i + 1 == cols.len();
            if cols[i].right_aligned() {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if !last {
                    line.push_str(&" ".repeat(pad));
                }
            }
        }
        out.push_str(line.trim_end_matches(' '));
        out.push('\n');
    }
    out
}

/// `losetup --raw` output: one space between cells, no alignment, blanks in
/// values escaped.
pub fn render_raw(devs: &[DeviceInfo], cols: &[Column], headings: bool) -> String {
    let mut out = String::new();
    if headings {
        let names: Vec<&str> = cols.iter().map(|c| c.name()).collect();
        out.push_str(&names.join(" "));
        out.push('\n');
    }
    for d in devs {
        let cells: Vec<String> = cols
            .iter()
            .map(|c| text(&value(d, *c, OutputFormat::Raw), OutputFormat::Raw))
            .collect();
        out.push_str(&cells.join(" "));
        out.push('\n');
    }
    out
}

/// One device as a JSON object, keys in column order.
struct JsonRow<'a> {
    dev: &'a DeviceInfo,
    cols: &'a [Column],
}

impl Serialize for JsonRow<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.cols.len()))?;
        for c in self.cols {
            let key = c.json_key();
            match value(self.dev, *c, OutputFormat::Json) {
                Value::Missing => m.serialize_entry(&key, &())?,
                Value::Str(v) => m.serialize_entry(&key, &v)?,
                Value::Num(v) => m.serialize_entry(&key, &v)?,
                Value::Bool(v) => m.serialize_entry(&key, &v)?,
            }
        }
        m.end()
    }
}

struct JsonRows<'a> {
    devs: &'a [DeviceInfo],
    cols: &'a [Column],
}

impl Serialize for JsonRows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.devs.iter().map(|dev| JsonRow {
            dev,
            cols: self.cols,
        }))
    }
}

/// `losetup --json` output with the top-level key [`JSON_KEY`]: an object
/// per device, keyed by the lower-case column names, flags as booleans,
/// numbers as numbers, missing values as `null`; indented by three spaces
/// like libsmartcols.
pub fn render_json(devs: &[DeviceInfo], cols: &[Column]) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"   ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    let mut m = ser.serialize_map(Some(1)).expect("writing to a Vec");
    m.serialize_entry(JSON_KEY, &JsonRows { devs, cols })
        .expect("writing to a Vec");
    SerializeMap::end(m).expect("writing to a Vec");
    let mut s = String::from_utf8(buf).expect("serde_json writes UTF-8");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dev0() -> DeviceInfo {
        DeviceInfo {
            index: 0,
            name: "/dev/rloop0".into(),
            backing_file: Some("/tmp/disk.img".into()),
            backing_inode: Some(1234),
            backing_dev: Some((8, 1)),
            dev: Some((252, 0)),
            offset: 0,
            sizelimit: 0,
            autoclear: false,
            partscan: true,
            dio: true,
            read_only: false,
            log_sec: Some(4096),
            size_sectors: Some(2048),
        }
    }

    fn dev12() -> DeviceInfo {
        DeviceInfo {
            index: 12,
            name: "/dev/rloop12".into(),
            backing_file: Some("/srv/images/a b.img".into()),
            backing_inode: Some(98765432),
            backing_dev: Some((259, 17)),
            dev: Some((252, 12)),
            offset: 1048576,
            sizelimit: 67108864,
            autoclear: true,
            partscan: false,
            dio: true,
            read_only: true,
            log_sec: Some(512),
            size_sectors: Some(131072),
        }
    }

    #[test]
    fn column_names() {
        assert_eq!(Column::from_name("back-file"), Some(Column::BackFile));
        assert_eq!(Column::from_name("Log-Sec"), Some(Column::LogSec));
        assert_eq!(Column::from_name("maj:min"), Some(Column::MajMin));
        assert_eq!(Column::from_name("BACK-MAJ:MIN"), Some(Column::BackMajMin));
        assert_eq!(Column::from_name("SIZE"), None);
        for c in Column::ALL {
            assert_eq!(Column::from_name(c.name()), Some(c));
            assert_eq!(Column::from_name(&c.json_key()), Some(c));
        }
        assert_eq!(Column::BackFile.json_key(), "back-file");
        assert_eq!(Column::BackMajMin.json_key(), "back-maj:min");
    }

    #[test]
    fn parse_output_lists() {
        assert_eq!(
            parse_columns("name,back-file,RO"),
            Ok(vec![Column::Name, Column::BackFile, Column::Ro])
        );
        assert_eq!(parse_columns("NAME"), Ok(vec![Column::Name]));
        assert_eq!(
            parse_columns("name,name"),
            Ok(vec![Column::Name, Column::Name])
        );
        let mut plus = Column::DEFAULT.to_vec();
        plus.push(Column::BackIno);
        plus.push(Column::MajMin);
        assert_eq!(parse_columns("+back-ino,MAJ:MIN"), Ok(plus));
        assert_eq!(
            parse_columns("name,SIZE"),
            Err("unknown column: SIZE".to_string())
        );
        assert_eq!(
            parse_columns("name,,ro"),
            Err("empty column name".to_string())
        );
        assert!(parse_columns("").is_err());
        assert!(columns_help().contains("LOG-SEC"));
    }

    #[test]
    fn table_default_columns() {
        let t = render_table(&[dev0(), dev12()], &Column::DEFAULT, true, None);
        let expected = "\
NAME         SIZELIMIT  OFFSET AUTOCLEAR RO BACK-FILE           DIO LOG-SEC
/dev/rloop0          0       0         0  0 /tmp/disk.img         1    4096
/dev/rloop12  67108864 1048576         1  1 /srv/images/a b.img   1     512
";
        assert_eq!(t, expected);
        let t = render(
            &[dev0()],
            &Column::DEFAULT,
            OutputFormat::Table,
            false,
            None,
        );
        assert_eq!(
            t, "/dev/rloop0 0 0 0 0 /tmp/disk.img 1 4096\n",
            "widths come from the cells alone without headings"
        );
    }

    #[test]
    fn table_majmin_and_last_column() {
        let t = render_table(
            &[dev0(), dev12()],
            &[Column::MajMin, Column::BackMajMin, Column::Name],
            true,
            None,
        );
        let expected = "\
MAJ:MIN BACK-MAJ:MIN NAME
252:0          8:1   /dev/rloop0
252:12       259:17  /dev/rloop12
";
        assert_eq!(t, expected);
    }

    fn cjk() -> DeviceInfo {
        DeviceInfo {
            index: 3,
            name: "/dev/rloop3".into(),
            backing_file: Some("/srv/画像/ディスク.img".into()),
            log_sec: Some(512),
            dio: true,
            ..Default::default()
        }
    }

    /// Each line's width on a terminal.
    fn line_widths(t: &str) -> Vec<usize> {
        t.lines().map(UnicodeWidthStr::width).collect()
    }

    #[test]
    fn table_aligns_wide_characters() {
        // "/srv/画像/ディスク.img" is 16 characters and 22 columns wide.
        let t = render_table(&[cjk(), dev0()], &Column::DEFAULT, true, None);
        let expected = "\
NAME        SIZELIMIT OFFSET AUTOCLEAR RO BACK-FILE              DIO LOG-SEC
/dev/rloop3         0      0         0  0 /srv/画像/ディスク.img   1     512
/dev/rloop0         0      0         0  0 /tmp/disk.img            1    4096
";
        assert_eq!(t, expected);
        assert_eq!(line_widths(&t), [76, 76, 76]);
        // A terminal wide enough cuts nothing.
        assert_eq!(
            render_table(&[cjk(), dev0()], &Column::DEFAULT, true, Some(76)),
            expected
        );
    }

    #[test]
    fn table_cuts_the_backing_file_to_the_terminal() {
        // 6 columns too wide: BACK-FILE gets 16, 15 and the ellipsis.
        let t = render_table(&[cjk(), dev0()], &Column::DEFAULT, true, Some(69));
        let expected = "\
NAME        SIZELIMIT OFFSET AUTOCLEAR RO BACK-FILE       DIO LOG-SEC
/dev/rloop3         0      0         0  0 /srv/画像/ディ…   1     512
/dev/rloop0         0      0         0  0 /tmp/disk.img     1    4096
";
        assert_eq!(t, expected);
        assert_eq!(line_widths(&t), [69, 69, 69]);
        // 16 columns, and half of ス does not fit: the cell is a column
        // short, and the columns after it stay in line.
        let t = render_table(&[cjk(), dev0()], &Column::DEFAULT, true, Some(70));
        let expected = "\
NAME        SIZELIMIT OFFSET AUTOCLEAR RO BACK-FILE        DIO LOG-SEC
/dev/rloop3         0      0         0  0 /srv/画像/ディ…    1     512
/dev/rloop0         0      0         0  0 /tmp/disk.img      1    4096
";
        assert_eq!(t, expected);
        assert_eq!(line_widths(&t), [70, 70, 70]);
        // Never narrower than its heading: the line overflows instead.
        let t = render_table(&[cjk()], &Column::DEFAULT, true, Some(40));
        assert_eq!(
            t.lines().nth(1),
            Some("/dev/rloop3         0      0         0  0 /srv/画…    1     512")
        );
        // The last column is cut too, and the other columns never.
        let t = render_table(&[cjk()], &[Column::Name, Column::BackFile], false, Some(20));
        assert_eq!(t, "/dev/rloop3 /srv/画…\n");
        let t = render_table(&[cjk()], &[Column::Name, Column::Offset], false, Some(5));
        assert_eq!(t, "/dev/rloop3 0\n");
    }

    #[test]
    fn raw() {
        let t = render(
            &[dev0(), dev12()],
            &[Column::Name, Column::BackFile, Column::MajMin, Column::Ro],
            OutputFormat::Raw,
            true,
            Some(10),
        );
        // Raw output is never cut.
        assert_eq!(
            t,
            "NAME BACK-FILE MAJ:MIN RO\n\
             /dev/rloop0 /tmp/disk.img 252:0 0\n\
             /dev/rloop12 /srv/images/a\\x20b.img 252:12 1\n"
        );
        let t = render(&[dev0()], &[Column::Name], OutputFormat::Raw, false, None);
        assert_eq!(t, "/dev/rloop0\n");
    }

    #[test]
    fn escapes() {
        assert_eq!(escape("a b\\c\n", true), "a\\x20b\\x5cc\\x0a");
        assert_eq!(escape("a b\\c\n", false), "a b\\x5cc\\x0a");
        assert_eq!(escape("é", true), "é");
    }

    #[test]
    fn empty_list() {
        assert_eq!(
            render(&[], &Column::DEFAULT, OutputFormat::Table, true, None),
            ""
        );
        assert_eq!(
            render(&[], &Column::DEFAULT, OutputFormat::Raw, true, None),
            ""
        );
        let j = render(&[], &Column::DEFAULT, OutputFormat::Json, true, None);
        assert_eq!(j, "{\n   \"rloopdevices\": []\n}\n");
    }

    #[test]
    fn json_shape() {
        let j = render_json(&[dev0(), dev12()], &Column::DEFAULT);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(
            v,
            json!({
                "rloopdevices": [
                    {
                        "name": "/dev/rloop0",
                        "sizelimit": 0,
                        "offset": 0,
                        "autoclear": false,
                        "ro": false,
                        "back-file": "/tmp/disk.img",
                        "dio": true,
                        "log-sec": 4096
                    },
                    {
                        "name": "/dev/rloop12",
                        "sizelimit": 67108864,
                        "offset": 1048576,
                        "autoclear": true,
                        "ro": true,
                        "back-file": "/srv/images/a b.img",
                        "dio": true,
                        "log-sec": 512
                    }
                ]
            })
        );
        // Keys come in column order, indented like libsmartcols.
        let expected_start = "{\n   \"rloopdevices\": [\n      {\n         \"name\": \"/dev/rloop0\",\n         \"sizelimit\": 0,\n         \"offset\": 0,\n         \"autoclear\": false,\n         \"ro\": false,\n         \"back-file\": \"/tmp/disk.img\",\n         \"dio\": true,\n         \"log-sec\": 4096\n      },";
        assert!(j.starts_with(expected_start), "{j}");
        assert!(j.ends_with("   ]\n}\n"));
    }

    #[test]
    fn json_all_columns_types() {
        let mut d = dev12();
        d.log_sec = None;
        let j = render_json(&[d], &Column::ALL);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        let o = v["rloopdevices"][0].as_object().unwrap();
        let keys: Vec<&str> = o.keys().map(String::as_str).collect();
        let mut want: Vec<String> = Column::ALL.iter().map(|c| c.json_key()).collect();
        want.sort();
        let mut got: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
        got.sort();
        assert_eq!(got, want);
        assert_eq!(o["autoclear"], json!(true));
        assert_eq!(o["partscan"], json!(false));
        assert_eq!(o["ro"], json!(true));
        assert_eq!(o["dio"], json!(true));
        assert_eq!(o["back-ino"], json!(98765432u64));
        assert_eq!(o["offset"], json!(1048576u64));
        assert_eq!(o["sizelimit"], json!(67108864u64));
        assert_eq!(o["back-maj:min"], json!("259:17"));
        assert_eq!(o["maj:min"], json!("252:12"));
        assert_eq!(o["log-sec"], json!(null));
        assert_eq!(o["back-file"], json!("/srv/images/a b.img"));
        // Big numbers stay exact.
        let mut d = dev0();
        d.offset = u64::MAX;
        let j = render_json(&[d], &[Column::Offset]);
        assert!(j.contains("\"offset\": 18446744073709551615"), "{j}");
    }
}
