use logwire::Logger;

#[logwire::service]
pub struct AuthService {
    logger: Logger,
}

#[derive(Debug)]
pub struct LoginRequest {
    pub user: String,
}

#[logwire::service(level = "trace")]
impl AuthService {
    #[log(skip(token))]
    pub fn validate(&self, token: &str, user: &str) -> bool {
        !token.is_empty() && !user.is_empty()
    }

    #[log(skip_all)]
    pub fn quiet(&self, a: u8, b: u8) -> u8 {
        a + b
    }

    #[log(record(req))]
    pub fn login(&self, req: &LoginRequest) -> bool {
        !req.user.is_empty()
    }

    #[log(level = "info")]
    pub fn loud(&self) {}

    #[log(level = "WARN", record(req), skip(n))]
    pub fn mixed(&self, req: LoginRequest, n: u8) -> u8 {
        n + req.user.len() as u8
    }

    #[log(off)]
    pub fn hot(&self) -> u8 {
        1
    }
}

fn main() {
    let (logger, captured) = Logger::capture("api");
    let auth = AuthService::new(logger);
    auth.validate("t", "u");
    auth.quiet(1, 2);
    auth.login(&LoginRequest { user: "ann".into() });
    auth.loud();
    auth.mixed(LoginRequest { user: "bob".into() }, 2);
    auth.hot();
    assert_eq!(captured.records().len(), 5);
}
