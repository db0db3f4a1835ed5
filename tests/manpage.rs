//! man/wstail.1 documents exactly the options the binary has: the option
//! entries of `wstail serve --help` and `wstail tail --help` (names and
//! value names) equal the `.TP` entries of the man page's two OPTIONS
//! subsections, both ways. Also checks that the protocol's query parameters,
//! refusal statuses and required sections are all there.

use std::collections::BTreeSet;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_wstail");
const MAN: &str = include_str!("../man/wstail.1");

/// "-l, --listen ADDR" for each option line of a subcommand's --help.
fn help_entries(sub: &str) -> BTreeSet<String> {
    let out = Command::new(BIN).args([sub, "--help"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let options = text
        .split_once("Options:\n")
        .unwrap_or_else(|| panic!("no 'Options:' in 'wstail {sub} --help'"))
        .1;
    let mut entries = BTreeSet::new();
    for line in options.lines() {
        let indent = line.len() - line.trim_start().len();
        // Option lines start at column 2 or 6; descriptions go on at 28.
        if indent > 8 || !line.trim_start().starts_with('-') {
            continue;
        }
        let mut names = Vec::new();
        let mut metavar = None;
        for word in line.split_whitespace() {
            let word = word.trim_end_matches(',');
            if word.starts_with('-') && metavar.is_none() {
                names.push(word.to_string());
            } else if metavar.is_none()
                && !word.is_empty()
                && word.chars().all(|c| c.is_ascii_uppercase() || c == '_')
            {
                metavar = Some(word.to_string());
            } else {
                break;
            }
        }
        entries.insert(entry(&names, metavar));
    }
    entries
}

fn entry(names: &[String], metavar: Option<String>) -> String {
    let mut e = names.join(", ");
    if let Some(m) = metavar {
        e.push(' ');
        e.push_str(&m);
    }
    e
}

/// The same entries from the `.TP` tags of `.SS "wstail SUB"` in the man page.
fn man_entries(sub: &str) -> BTreeSet<String> {
    let start = format!(".SS \"wstail {sub}\"\n");
    let at = MAN
        .find(&start)
        .unwrap_or_else(|| panic!("no {start:?} in the man page"));
    let section = &MAN[at + start.len()..];
    let end = section
        .find("\n.SS")
        .into_iter()
        .chain(section.find("\n.SH"))
        .min()
        .unwrap_or(section.len());
    let lines: Vec<&str> = section[..end].lines().collect();
    let mut entries = BTreeSet::new();
    for pair in lines.windows(2) {
        if pair[0] != ".TP" {
            continue;
        }
        // \fB\-l\fR, \fB\-\-listen\fR \fIADDR\fR
        let tag = pair[1].replace("\\-", "-");
        let mut names = Vec::new();
        let mut metavar = None;
        for piece in tag.split("\\fB").skip(1) {
            let name = piece.split("\\f").next().unwrap_or("");
            names.push(name.to_string());
        }
        if let Some(m) = tag.split("\\fI").nth(1) {
            metavar = Some(m.split("\\f").next().unwrap_or("").to_string());
        }
        assert!(
            !names.is_empty() && names.iter().all(|n| n.starts_with('-')),
            "an option entry of 'wstail {sub}' in the man page is not in the form \\fB\\-x\\fR, \\fB\\-\\-name\\fR \\fIVALUE\\fR: {:?}",
            pair[1]
        );
        entries.insert(entry(&names, metavar));
    }
    entries
}

#[test]
fn every_option_in_help_is_in_the_man_page_and_back() {
    for sub in ["serve", "tail"] {
        let help = help_entries(sub);
        let man = man_entries(sub);
        assert!(
            help.len() >= 4,
            "too few options parsed from --help: {help:?}"
        );
        let missing: Vec<_> = help.difference(&man).collect();
        let extra: Vec<_> = man.difference(&help).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "wstail {sub}: in --help but not in man/wstail.1: {missing:?}; in man/wstail.1 but not in --help: {extra:?}"
        );
    }
}

#[test]
fn the_parsers_see_known_options() {
    let serve = help_entries("serve");
    assert!(serve.contains("-l, --listen ADDR"), "{serve:?}");
    assert!(serve.contains("--inetd"), "{serve:?}");
    let tail = help_entries("tail");
    assert!(tail.contains("-n, --lines N"), "{tail:?}");
    assert!(tail.contains("--retry"), "{tail:?}");
    assert_eq!(man_entries("tail"), tail);
}

#[test]
fn the_protocol_and_required_sections_are_documented() {
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "EXAMPLES",
        "SECURITY",
    ] {
        assert!(
            MAN.contains(&format!("\n.SH {section}\n"))
                || MAN.contains(&format!("\n.SH \"{section}\"\n")),
            "no {section} section"
        );
    }
    for param in [
        "tail=", "lines=", "format=", "match=", "exclude=", "meta=", "from=", "inode=", "token=",
    ] {
        assert!(MAN.contains(param), "query parameter {param} undocumented");
    }
    for status in [
        "400", "401", "403", "404", "405", "408", "426", "431", "500", "503",
    ] {
        assert!(
            MAN.contains(&format!(".B {status}\n")),
            "status {status} undocumented"
        );
    }
    for word in [
        "WSTAIL_TOKEN",
        "?download",
        "?list",
        "Accept=yes",
        "@reboot",
    ] {
        assert!(MAN.contains(word), "{word} undocumented");
    }
}
