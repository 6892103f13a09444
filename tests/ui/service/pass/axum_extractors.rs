use axum::extract::FromRef;
use axum::routing::get;
use axum::Router;
use logwire::Logger;

#[derive(Clone, Default)]
pub struct AppConfig {
    pub name: String,
}

#[derive(Clone)]
pub struct AppState {
    config: AppConfig,
}

impl FromRef<AppState> for AppConfig {
    fn from_ref(state: &AppState) -> Self {
        state.config.clone()
    }
}

#[logwire::service]
pub struct BuildService {
    logger: Logger,
    #[inject(from_ref)]
    config: AppConfig,
    #[inject(default)]
    page_size: u32,
}

#[logwire::service]
impl BuildService {
    pub async fn list(&self) -> String {
        format!("{} {}", self.config.name, self.page_size)
    }
}

async fn list_builds(builds: BuildService, logger: Logger) -> String {
    logwire::info!(logger, "HANDLER");
    builds.list().await
}

fn main() {
    let state = AppState { config: AppConfig { name: "ci".into() } };
    let _app: Router = Router::new().route("/api/builds", get(list_builds)).with_state(state);
}
