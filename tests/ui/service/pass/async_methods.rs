use logwire::Logger;

#[logwire::service]
pub struct BuildService {
    logger: Logger,
}

#[derive(Debug)]
pub struct AppError;

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("app error")
    }
}

impl From<std::num::ParseIntError> for AppError {
    fn from(_: std::num::ParseIntError) -> Self {
        AppError
    }
}

#[logwire::service]
impl BuildService {
    pub async fn parse(&self, text: &str) -> Result<u32, AppError> {
        let n: u32 = text.parse()?;
        if n == 0 {
            return Err(AppError);
        }
        Ok(n)
    }

    pub async fn name(&self) -> &str {
        self.logger.name()
    }

    pub async fn consume(self) -> u8 {
        1
    }

    pub async fn nothing(&mut self) {}
}

fn assert_send<T: Send>(_: T) {}

fn main() {
    let (logger, _) = Logger::capture("api");
    let mut svc = BuildService::new(logger);
    assert_send(svc.parse("1"));
    assert_send(svc.nothing());
}
