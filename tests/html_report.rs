//! The HTML report in a real browser (issue #14): a migration is run on a clone of a real
//! database by the binary (`--clone --format html`), the page is opened in headless Chromium,
//! and the test looks at what was drawn, not only at the HTML text: where the browser laid out
//! each lock bar of the timeline (read back with `--dump-dom` from a copy of the page that
//! records the bars' boxes), that the screenshot has the lock colours at those places, that
//! the bars' lengths follow the measured hold times, and how tall the page is.
//!
//! Needs Debian's `chromium` (`apt-get install -y chromium`; `.ci/run` installs it when
//! missing) or `MIGSAFE_CHROMIUM` naming a Chromium binary. Without one the test fails and
//! says how to install it; it never skips.

mod common;

use common::TestDb;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Chromium binary: `MIGSAFE_CHROMIUM`, else `chromium` or `chromium-browser` on PATH.
fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("MIGSAFE_CHROMIUM").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    for name in ["chromium", "chromium-browser"] {
        if let Some(dir) = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .find(|d| d.join(name).is_file())
        {
            return dir.join(name);
        }
    }
    panic!(
        "No Chromium found for the HTML report test: install it with `apt-get install -y \
         chromium` (Debian/Ubuntu), or set MIGSAFE_CHROMIUM to a Chromium binary"
    );
}

/// Runs headless Chromium on `page` with the flags that keep it offline and quiet, a fresh
/// profile, one CSS pixel per device pixel, and `extra` (`--dump-dom`, `--screenshot=…`).
fn run_chromium(page: &Path, profile: &Path, width: u32, height: u32, extra: &[String]) -> String {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={width},{height}"))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("Chromium starts");
    assert!(
        out.status.success(),
        "Chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Appended to a copy of the page: records where the browser put every bar, and the
/// page's size, in an attribute that `--dump-dom` prints. It changes no layout.
const MEASURE: &str = r#"<script>
const rects = [...document.querySelectorAll('rect.lock, rect.run')].map(e => {
  const b = e.getBoundingClientRect();
  return {class: e.getAttribute('class'), line: Number(e.getAttribute('data-line')),
          held: Number(e.getAttribute('data-held-ms') || 0),
          x: b.left + window.scrollX, y: b.top + window.scrollY, w: b.width, h: b.height};
});
const axis = document.querySelector('figure.timeline svg').getBoundingClientRect();
document.body.setAttribute('data-geometry', JSON.stringify({rects,
  svg: {x: axis.left + window.scrollX, w: axis.width},
  height: document.documentElement.scrollHeight, width: document.documentElement.scrollWidth}));
</script>"#;

#[derive(Debug, serde::Deserialize)]
struct Geometry {
    rects: Vec<Bar>,
    svg: Box,
    height: f64,
    width: f64,
}

#[derive(Debug, serde::Deserialize)]
struct Box {
    x: f64,
    w: f64,
}

#[derive(Debug, serde::Deserialize)]
struct Bar {
    class: String,
    line: usize,
    #[serde(default)]
    held: u64,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// The value of `data-geometry` in the dumped DOM.
fn geometry(dom: &str) -> Geometry {
    let start = dom
        .find("data-geometry=\"")
        .unwrap_or_else(|| panic!("no geometry in the dumped DOM:\n{dom}"))
        + "data-geometry=\"".len();
    let end = start + dom[start..].find('"').expect("attribute ends");
    let json = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("bad geometry {json}: {e}"))
}

/// A decoded PNG: 8-bit RGB or RGBA, not interlaced (what Chromium writes).
struct Image {
    width: usize,
    height: usize,
    channels: usize,
    pixels: Vec<u8>,
}

impl Image {
    fn rgb(&self, x: usize, y: usize) -> (u8, u8, u8) {
        let i = (y * self.width + x) * self.channels;
        (self.pixels[i], self.pixels[i + 1], self.pixels[i + 2])
    }
}

/// Just enough of PNG (RFC 2083) to read a screenshot: IHDR, the IDAT stream through zlib, and
/// the five scanline filters.
fn decode_png(bytes: &[u8]) -> Image {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let (mut width, mut height, mut channels) = (0, 0, 0);
    let mut idat = Vec::new();
    let mut at = 8;
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind = &bytes[at + 4..at + 8];
        let data = &bytes[at + 8..at + 8 + len];
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                height = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                assert_eq!(data[8], 8, "bit depth");
                channels = match data[9] {
                    2 => 3,
                    6 => 4,
                    other => panic!("colour type {other}"),
                };
                assert_eq!(data[12], 0, "interlaced");
            }
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .expect("zlib");
    let stride = width * channels;
    let mut pixels = vec![0u8; stride * height];
    for y in 0..height {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for x in 0..stride {
            let a = if x >= channels {
                pixels[y * stride + x - channels]
            } else {
                0
            };
            let b = if y > 0 {
                pixels[(y - 1) * stride + x]
            } else {
                0
            };
            let c = if x >= channels && y > 0 {
                pixels[(y - 1) * stride + x - channels]
            } else {
                0
            };
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = (
                        (p - i16::from(a)).abs(),
                        (p - i16::from(b)).abs(),
                        (p - i16::from(c)).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                f => panic!("filter {f}"),
            };
            pixels[y * stride + x] = line[x].wrapping_add(predicted);
        }
    }
    Image {
        width,
        height,
        channels,
        pixels,
    }
}

fn hex(colour: &str) -> (u8, u8, u8) {
    let c = colour.trim_start_matches('#');
    let byte = |i: usize| u8::from_str_radix(&c[i..i + 2], 16).unwrap();
    (byte(0), byte(2), byte(4))
}

fn colour_of(class: &str) -> (u8, u8, u8) {
    if class == "run" {
        return hex(migsafe::report::html::RUN_COLOUR);
    }
    let key = class
        .split_whitespace()
        .find(|c| c.starts_with("blocks-"))
        .unwrap();
    let (_, colour) = migsafe::report::html::LOCK_COLOURS
        .iter()
        .find(|(k, _)| *k == key)
        .unwrap();
    hex(colour)
}

fn close(a: (u8, u8, u8), b: (u8, u8, u8)) -> bool {
    let d = |x: u8, y: u8| (i16::from(x) - i16::from(y)).abs();
    d(a.0, b.0) <= 6 && d(a.1, b.1) <= 6 && d(a.2, b.2) <= 6
}

/// Rows enough that the rewrite holds its lock long enough to be measured in milliseconds.
const SETUP: &str = "CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer NOT NULL, \
     note text); INSERT INTO orders SELECT g, g % 1000, 'n' FROM generate_series(1, 300000) g; \
     ANALYZE orders;";

const MIGRATION: &str =
    "-- owner: @payments-team\n-- expect: succeeds\n-- rollback: irreversible\n\
SET lock_timeout = '5s';\n\
ALTER TABLE orders ALTER COLUMN id TYPE bigint;\n\
UPDATE orders SET note = 'x' WHERE id < 5000;\n";

#[tokio::test(flavor = "multi_thread")]
async fn the_lock_timeline_is_drawn_where_the_locks_were() {
    let db = TestDb::create("html_report").await;
    db.execute(SETUP).await;
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    std::fs::write(migrations.join("0001_orders_id_bigint.sql"), MIGRATION).unwrap();
    let page = dir.path().join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_migsafe"))
        .current_dir(dir.path())
        // Run as a framework that wraps the file in BEGIN … COMMIT does, so the ALTER's lock
        // is held across the UPDATE after it.
        .args([
            "check",
            "migrations",
            "--transaction",
            "file",
            "--clone",
            "--quiet",
            "--database-url",
            &db.url,
        ])
        .arg(format!("--report=html={}", page.display()))
        .args(["--format", "json"])
        .env_remove("MIGSAFE_DATABASE_URL")
        .output()
        .expect("migsafe runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(json["evidence"], "execution", "{json}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("<script") && !html.contains("<link"),
        "self-contained"
    );
    assert!(
        !html.contains(&dir.path().display().to_string()),
        "no absolute path of the run"
    );

    // Where the browser drew the bars.
    let measured = dir.path().join("measured.html");
    std::fs::write(
        &measured,
        html.replace("</body>", &format!("{MEASURE}</body>")),
    )
    .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let dom = run_chromium(
        &measured,
        profile.path(),
        1000,
        1000,
        &["--dump-dom".to_string()],
    );
    let g = geometry(&dom);
    assert!(g.width <= 1000.0, "no horizontal scrolling: {} px", g.width);
    assert!(
        (500.0..6000.0).contains(&g.height),
        "one migration's page is {} px tall",
        g.height
    );
    let timeline = &json["migrations"][0]["timeline"];
    let bar = |kind: &str, line: usize| {
        g.rects
            .iter()
            .find(|r| r.line == line && r.class.split(' ').next() == Some(kind))
            .unwrap_or_else(|| panic!("no {kind} bar for line {line}: {:?}\n{timeline}", g.rects))
    };
    // The ALTER takes ACCESS EXCLUSIVE and holds it to COMMIT, over the UPDATE after it (which
    // needs no lock of its own then): its lock bar starts the axis and spans both statements.
    let (rewrite, rewrite_run, backfill_run) = (bar("lock", 5), bar("run", 5), bar("run", 6));
    assert!(rewrite.class.contains("blocks-reads"), "{rewrite:?}");
    assert!(
        !g.rects
            .iter()
            .any(|r| r.line == 6 && r.class.starts_with("lock")),
        "{timeline}"
    );
    let axis_x = g.svg.x + f64::from(migsafe::report::html::TIMELINE_AXIS_X);
    let scale = g.svg.w / f64::from(migsafe::report::html::TIMELINE_WIDTH);
    let area = f64::from(
        migsafe::report::html::TIMELINE_WIDTH - migsafe::report::html::TIMELINE_AXIS_X - 20,
    ) * scale;
    // The axis as `html::spans` lays it out: statements one after another, a lock held from
    // its statement's start.
    let (mut at, mut end) = (0u64, 1u64);
    let mut starts = Vec::new();
    for t in timeline.as_array().unwrap() {
        let ran = t["duration_ms"].as_u64().unwrap();
        let held = t["held_ms"].as_u64().unwrap_or(0);
        starts.push((t["line"].as_u64().unwrap() as usize, at, ran));
        end = end.max(at + ran).max(at + held);
        at += ran;
    }
    let x_of = |ms: u64| axis_x + area * ms as f64 / end as f64;
    let near = |a: f64, b: f64| (a - b).abs() < 1.5;
    let min = migsafe::report::html::MIN_BAR;
    assert!(near(rewrite.x, axis_x), "{rewrite:?} vs axis at {axis_x}");
    assert!(
        near(rewrite.w, (x_of(rewrite.held) - axis_x).max(min)),
        "{rewrite:?}: held {} ms of {end}",
        rewrite.held
    );
    for (line, start, ran) in starts.iter().filter(|(l, _, _)| *l == 5 || *l == 6) {
        let run = if *line == 5 {
            rewrite_run
        } else {
            backfill_run
        };
        assert!(near(run.x, x_of(*start)), "{run:?}: starts at {start} ms");
        assert!(
            near(run.w, (x_of(start + ran) - x_of(*start)).max(min)),
            "{run:?}: {ran} ms"
        );
    }
    assert!(backfill_run.y > rewrite.y, "rows go down");
    assert!(
        backfill_run.x + backfill_run.w <= rewrite.x + rewrite.w + 1.5,
        "the UPDATE ran while the ALTER's lock was held: {backfill_run:?} {rewrite:?}"
    );

    // What the screenshot shows there.
    let shot = dir.path().join("shot.png");
    let height = g.height.ceil() as u32;
    run_chromium(
        &page,
        profile.path(),
        1000,
        height,
        &[format!("--screenshot={}", shot.display())],
    );
    let image = decode_png(&std::fs::read(&shot).unwrap());
    assert_eq!(image.width, 1000);
    assert!(
        image.height as f64 >= g.height - 1.0,
        "{} px tall",
        image.height
    );
    for bar in [rewrite, rewrite_run, backfill_run] {
        let (x, y) = (
            (bar.x + bar.w / 2.0) as usize,
            (bar.y + bar.h / 2.0) as usize,
        );
        let seen = image.rgb(x, y);
        assert!(
            close(seen, colour_of(&bar.class)),
            "pixel ({x}, {y}) of {bar:?} is {seen:?}"
        );
        // Just outside the bar is something else.
        let outside = image.rgb(x, (bar.y - 1.5) as usize);
        assert!(
            !close(outside, colour_of(&bar.class)),
            "{outside:?} above {bar:?}"
        );
    }
    // Nothing but the lock bars uses the ACCESS EXCLUSIVE colour: count its pixels and
    // compare them with the bar's area.
    let red = hex(migsafe::report::html::LOCK_COLOURS[0].1);
    let red_pixels = (0..image.height)
        .flat_map(|y| (0..image.width).map(move |x| (x, y)))
        .filter(|&(x, y)| close(image.rgb(x, y), red))
        .count() as f64;
    let bars: f64 = g
        .rects
        .iter()
        .filter(|r| r.class.contains("blocks-reads"))
        .map(|r| r.w.max(1.0) * r.h)
        .sum::<f64>()
        // The legend's swatch.
        + 120.0;
    assert!(
        red_pixels <= bars * 1.1 + 40.0 && red_pixels >= bars * 0.5,
        "{red_pixels} red pixels for {bars} px² of bars"
    );
}
