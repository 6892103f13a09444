//! Every form a field takes, a level chosen at run time, and a value type
//! of the user's own.

use logwire::{FieldValue, Level, Logger, Recorder};

struct UserId(u64);

impl FieldValue for UserId {
    fn record<'a>(&'a self, r: &mut dyn Recorder<'a>) {
        r.record_u64(self.0)
    }
}

fn main() {
    let (log, captured) = Logger::capture("api");
    let path = std::path::Path::new("/srv");
    let user = "admin";
    let level = if path.is_absolute() { Level::WARN } else { Level::INFO };
    logwire::info!(log, "FORMS", n = 1, shown = %user, debugged = ?path, user, %user, ?path, a.b = true, "my key" = 2.5,);
    logwire::event!(log, level, String::from("RUNTIME_LEVEL"), id = UserId(7));
    logwire::error!(&log, "REF_LOGGER");
    let r#type = "build";
    logwire::info!(log, "RAW", r#type, r#loop = 1);
    assert_eq!(captured.lines().len(), 4);
    assert!(captured.lines()[3].ends_with("RAW | type=build loop=1"));
}
