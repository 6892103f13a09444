//! `logwire-lint [--format human|github|json] DIR`: checks the crate in DIR;
//! exit 0 when clean, 1 on findings, 2 on usage or I/O errors.

use std::process::ExitCode;

use logwire_lint::Format;

const USAGE: &str = "usage: logwire-lint [--format human|github|json] DIR";

fn main() -> ExitCode {
    let mut format = Format::Human;
    let mut dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--format" => {
                format = match args.next().as_deref() {
                    Some("human") => Format::Human,
                    Some("github") => Format::Github,
                    Some("json") => Format::Json,
                    other => {
                        eprintln!("logwire-lint: unknown format {other:?}\n{USAGE}");
                        return ExitCode::from(2);
                    }
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ if dir.is_none() && !arg.starts_with('-') => dir = Some(arg),
            _ => {
                eprintln!("logwire-lint: unexpected argument {arg:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(dir) = dir else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let report = logwire_lint::check(&dir);
    print!("{}", report.render(format));
    if report.io_error.is_some() {
        ExitCode::from(2)
    } else if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
