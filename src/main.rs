fn main() -> std::process::ExitCode {
    botcadence::cli::main()
}
