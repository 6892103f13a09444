use logwire::{FromContext, Logger};

#[derive(Clone)]
pub struct Db;

#[logwire::service]
pub struct Repo {
    logger: Logger,
    db: Db,
}

#[logwire::service]
pub struct BuildService {
    logger: Logger,
    repo: Repo,
}

#[logwire::service]
pub struct DeployService {
    logger: Logger,
    builds: BuildService,
    #[inject(default)]
    dry_run: bool,
}

pub struct Ctx {
    logger: Logger,
    db: Db,
}

impl AsRef<Logger> for Ctx {
    fn as_ref(&self) -> &Logger {
        &self.logger
    }
}

impl FromContext<Ctx> for Db {
    fn from_context(ctx: &Ctx) -> Self {
        ctx.db.clone()
    }
}

fn main() {
    let ctx = Ctx { logger: Logger::capture("w").0, db: Db };
    let deploy = DeployService::from_context(&ctx);
    assert!(!deploy.dry_run);
    let _: &Db = &deploy.builds.repo.db;
}
