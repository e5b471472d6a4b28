// SPDX-License-Identifier: GPL-2.0

//! Writes rloopctl's man pages and shell completions, generated from the clap
//! definition the binary parses with, so that neither can drift from it:
//!
//! ```text
//! cargo run --release -p rloopctl --example gen-docs -- OUTDIR
//! ```
//!
//! writes `OUTDIR/man8/rloopctl.8`, `OUTDIR/man8/rloopctl-<subcommand>.8`
//! and `OUTDIR/completions/{rloopctl.bash,_rloopctl,rloopctl.fish}`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use clap_complete::Shell;
use clap_mangen::Man;
use roff::{bold, roman, Roff};

/// rloopctl administers devices: section 8, as losetup(8).
const SECTION: &str = "8";

/// The shells completions are written for; each names its own file
/// (`rloopctl.bash`, `_rloopctl`, `rloopctl.fish`).
const SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

/// The name of a command's page: `rloopctl`, or `rloopctl-create` for a
/// subcommand once the command is built (as clap_mangen names them).
fn page_name(cmd: &clap::Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string()
}

/// A `SEE ALSO` section naming `pages` (all in section 8).
fn see_also(pages: &[String]) -> Roff {
    let mut refs = Vec::new();
    for (i, p) in pages.iter().enumerate() {
        if i > 0 {
            refs.push(roman(", "));
        }
        refs.push(bold(p.as_str()));
        refs.push(roman(format!("({SECTION})")));
    }
    let mut r = Roff::new();
    r.control("SH", ["SEE ALSO"]).text(refs);
    r
}

/// One man page, `<dir>/<page name>.8`: clap_mangen's, with a `SEE ALSO`
/// naming `see` before the version, where man-pages(7) puts it.
fn render_page(cmd: &clap::Command, see: &[String], dir: &Path) -> io::Result<PathBuf> {
    let path = dir.join(format!("{}.{SECTION}", page_name(cmd)));
    let version = rloopctl::cli::command()
        .get_version()
        .unwrap_or_default()
        .to_string();
    let man = Man::new(cmd.clone())
        .section(SECTION)
        .source(format!("rloopctl {version}"))
        .manual("System Administration");
    let mut buf = Vec::new();
    man.render(&mut buf)?;
    let mut page = String::from_utf8(buf).map_err(io::Error::other)?;
    // `Man::render` writes roff's preamble once: the section goes into the
    // text rather than through a second `to_writer`, which would repeat it.
    let at = page.find("\n.SH VERSION\n").map_or(page.len(), |i| i + 1);
    page.insert_str(at, &see_also(see).to_roff());
    fs::write(&path, page)?;
    Ok(path)
}

/// Writes every page and completion script under `out_dir`; returns the
/// files written.
pub fn generate(out_dir: &Path) -> io::Result<Vec<PathBuf>> {
    let man_dir = out_dir.join(format!("man{SECTION}"));
    let completions_dir = out_dir.join("completions");
    fs::create_dir_all(&man_dir)?;
    fs::create_dir_all(&completions_dir)?;
    let mut written = Vec::new();

    // clap's `help` subcommand has nothing to say that rloopctl(8) does not:
    // no page of its own, and the main page does not point to one. Building
    // gives the subcommands their page names (`rloopctl-create`) and their
    // synopses their full names (`rloopctl create`).
    let mut man_cmd = rloopctl::cli::command().disable_help_subcommand(true);
    man_cmd.build();
    let subs: Vec<&clap::Command> = man_cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .collect();
    let main_name = page_name(&man_cmd);
    let mut see: Vec<String> = subs.iter().map(|s| page_name(s)).collect();
    see.push("losetup".to_string());
    written.push(render_page(&man_cmd, &see, &man_dir)?);
    for sub in subs {
        written.push(render_page(
            sub,
            std::slice::from_ref(&main_name),
            &man_dir,
        )?);
    }

    let mut cmd = rloopctl::cli::command();
    let bin_name = cmd.get_name().to_string();
    for shell in SHELLS {
        written.push(clap_complete::generate_to(
            shell,
            &mut cmd,
            &bin_name,
            &completions_dir,
        )?);
    }
    Ok(written)
}

fn main() -> std::process::ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let [out_dir] = args.as_slice() else {
        eprintln!("usage: gen-docs OUTDIR");
        return std::process::ExitCode::from(2);
    };
    match generate(Path::new(out_dir)) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-docs: {}: {e}", Path::new(out_dir).display());
            std::process::ExitCode::FAILURE
        }
    }
}
