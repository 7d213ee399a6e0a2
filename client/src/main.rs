//! The `tandem-client` binary trunk builds: mounts the page.

fn main() {
    tandem_client::start();
}
