//! `libpod-stats`: podman container stats straight from cgroupfs.

fn main() {
    eprintln!("libpod-stats: no subcommand implemented yet");
    std::process::exit(2);
}
