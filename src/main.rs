fn main() {
    eprintln!("ecr-warden: the command line arrives with the AWS adapters; see README.md");
    std::process::exit(2);
}
