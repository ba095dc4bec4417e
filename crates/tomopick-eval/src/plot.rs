//! Line charts as PNG (plotters, bitmap backend, with the DejaVu Sans font embedded so that no
//! system font is needed): the training curve.

use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;
use tomopick_io::{IoError, Result};

static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The bytes are a valid TrueType font shipped with the source; failure is a build error.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// One series of a chart.
pub struct Series<'a> {
    /// Legend label.
    pub label: &'a str,
    /// Points `(x, y)`.
    pub points: Vec<(f64, f64)>,
}

/// Writes two stacked charts sharing the x axis: `top` on a log y axis (losses) and `bottom` on
/// a linear 0–1 axis (scores). Written to a temporary file, then renamed.
pub fn write_two_panel_png(
    path: &Path,
    x_label: &str,
    (top_label, top): (&str, &[Series<'_>]),
    (bottom_label, bottom): (&str, &[Series<'_>]),
) -> Result<()> {
    register_font();
    let err = |e: String| IoError::file(path, format!("cannot draw the chart: {e}"));
    let (w, h) = (900u32, 700u32);
    let mut rgb = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let (upper, lower) = root.split_vertically(440);
        let x_max = top
            .iter()
            .chain(bottom)
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .fold(1.0, f64::max);
        let ys: Vec<f64> = top
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
            .filter(|v| *v > 0.0)
            .collect();
        let (lo, hi) = (
            ys.iter().cloned().fold(f64::INFINITY, f64::min).min(1.0),
            ys.iter().cloned().fold(0.0, f64::max).max(10.0),
        );
        let colours = [RED, BLUE, GREEN, MAGENTA, BLACK];
        let mut chart = ChartBuilder::on(&upper)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..x_max, (lo * 0.8..hi * 1.2).log_scale())
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(top_label)
            .draw()
            .map_err(|e| err(e.to_string()))?;
        for (i, s) in top.iter().enumerate() {
            let c = colours[i % colours.len()];
            chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied().filter(|p| p.1 > 0.0),
                    c,
                ))
                .map_err(|e| err(e.to_string()))?
                .label(s.label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(e.to_string()))?;
        let mut chart = ChartBuilder::on(&lower)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..x_max, 0f64..1f64)
            .map_err(|e| err(e.to_string()))?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(bottom_label)
            .draw()
            .map_err(|e| err(e.to_string()))?;
        for (i, s) in bottom.iter().enumerate() {
            let c = colours[i % colours.len()];
            chart
                .draw_series(LineSeries::new(s.points.iter().copied(), c.stroke_width(2)))
                .map_err(|e| err(e.to_string()))?;
            chart
                .draw_series(s.points.iter().map(|&p| Circle::new(p, 4, c.filled())))
                .map_err(|e| err(e.to_string()))?
                .label(s.label)
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, c.filled()));
        }
        if bottom.iter().any(|s| !s.points.is_empty()) {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| err(e.to_string()))?;
        }
        root.present().map_err(|e| err(e.to_string()))?;
    }
    tomopick_io::atomic::write_atomic(path, |f| {
        let mut enc = png::Encoder::new(f, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(std::io::Error::other)?;
        writer
            .write_image_data(&rgb)
            .map_err(std::io::Error::other)?;
        writer.finish().map_err(std::io::Error::other)
    })
}
