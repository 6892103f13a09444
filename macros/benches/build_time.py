"""Clean build times: logwire-macros itself, and a crate of 50 services
annotated with #[logwire::service] next to the same crate annotated with
#[tracing::instrument].

Run from the repository root: python3 macros/benches/build_time.py

Each service crate is built once to warm its dependencies, then its own
code is rebuilt from clean (`cargo clean -p`), three times; the median is
printed. Debug profile, as developers build.
"""

import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVICES = 50


def logwire_crate() -> str:
    out = ["use logwire::Logger;\n"]
    for i in range(SERVICES):
        out.append(f"""
#[logwire::service]
pub struct Service{i} {{
    logger: Logger,
    base: u64,
}}

#[logwire::service]
impl Service{i} {{
    pub fn add(&self, a: u64, label: &str) -> u64 {{
        a + self.base + label.len() as u64
    }}

    pub async fn fetch(&self, id: u64) -> Result<u64, String> {{
        if id == 0 {{ Err("zero".into()) }} else {{ Ok(id + self.base) }}
    }}

    pub fn name(&self) -> &str {{
        "service{i}"
    }}
}}
""")
    return "".join(out)


def tracing_crate() -> str:
    out = []
    for i in range(SERVICES):
        out.append(f"""
pub struct Service{i} {{
    base: u64,
}}

impl Service{i} {{
    pub fn new(base: u64) -> Self {{
        Self {{ base }}
    }}

    #[tracing::instrument(skip(self))]
    pub fn add(&self, a: u64, label: &str) -> u64 {{
        a + self.base + label.len() as u64
    }}

    #[tracing::instrument(skip(self), err)]
    pub async fn fetch(&self, id: u64) -> Result<u64, String> {{
        if id == 0 {{ Err("zero".into()) }} else {{ Ok(id + self.base) }}
    }}

    #[tracing::instrument(skip(self))]
    pub fn name(&self) -> &str {{
        "service{i}"
    }}
}}
""")
    return "".join(out)


def run(cmd, cwd, env=None):
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def crate(dir: pathlib.Path, name: str, dep: str, src: str) -> None:
    (dir / name / "src").mkdir(parents=True)
    (dir / name / "Cargo.toml").write_text(
        f'[package]\nname = "{name}"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\n{dep}\n'
    )
    (dir / name / "src" / "lib.rs").write_text(src)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "Cargo.toml").write_text('[workspace]\nresolver = "2"\nmembers = ["with_logwire", "with_tracing"]\n')
        shutil.copy(ROOT / "Cargo.lock", tmp / "Cargo.lock")
        crate(tmp, "with_logwire", f'logwire = {{ path = "{ROOT / "runtime"}" }}', logwire_crate())
        crate(tmp, "with_tracing", 'tracing = { version = "0.1", features = ["attributes"] }', tracing_crate())

        macros = run(["cargo", "build", "-q", "-p", "logwire-macros"], tmp)
        print(f"logwire-macros, clean build with its dependencies: {macros:.1f} s")
        for name, label in [("with_logwire", "#[logwire::service]"), ("with_tracing", "#[tracing::instrument]")]:
            run(["cargo", "build", "-q", "-p", name], tmp)
            times = []
            for _ in range(3):
                run(["cargo", "clean", "-q", "-p", name], tmp)
                times.append(run(["cargo", "build", "-q", "-p", name], tmp))
            print(f"{SERVICES} services x 3 methods with {label}: {statistics.median(times):.2f} s (median of 3)")


if __name__ == "__main__":
    sys.exit(main())
