//! Shared helpers: start the emulator on port 0 and build a client pointed at it.

use notion_client::{ClientConfig, Connection, LimiterConfig, Notion, RetryPolicy};
use notion_emulator::{Emulator, EmulatorBuilder, Seed};

/// A client for the emulator. Timeouts are off so that tests on a paused tokio clock cannot
/// see a spurious timeout while real sockets are in flight.
pub fn client(emu: &Emulator, limiter: LimiterConfig) -> Notion {
    Notion::new(
        ClientConfig::default()
            .base_url(emu.base_url())
            .limiter(limiter)
            .request_timeout(None)
            .connect_timeout(None)
            .retry(RetryPolicy::default()),
    )
    .expect("client builds")
}

/// A generous limiter, for tests that are not about rate limits.
pub fn fast() -> LimiterConfig {
    LimiterConfig::new(10_000.0, 10_000).expect("valid limiter")
}

/// The emulator with the demo workspace, and one connection to it.
pub async fn demo() -> (Emulator, Connection) {
    demo_with(Emulator::builder()).await
}

/// A started emulator (demo seed added) and one connection to it.
pub async fn demo_with(builder: EmulatorBuilder) -> (Emulator, Connection) {
    let emu = builder
        .seed(Seed::Demo)
        .start()
        .await
        .expect("emulator starts");
    let conn = client(&emu, fast()).connection("secret_test_token".to_owned().into());
    (emu, conn)
}
