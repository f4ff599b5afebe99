//! The `pyc` command: see `pycmarshal::cli`.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(pycmarshal::cli::run(std::env::args_os()))
}
