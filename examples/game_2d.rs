//! Someone else's game with the plugin added: a plain 2D scene on a light background (moving
//! squares, a HUD strip along the bottom edge where games put their own text), Bevy's default
//! plugins, and `RfmPerfPlugin::default()` after them. F12 opens the dashboard.
//!
//! ```text
//! cargo run --example game_2d
//! cargo run --example game_2d -- --dashboard full --exit-after 120 --screenshot full.png
//! ```
//!
//! `--dashboard compact|full` opens it at start in that layout; `--exit-after N --screenshot
//! PATH` saves the window after N frames and exits (what the README's screenshots are).

use std::path::PathBuf;

use bevy::prelude::*;
use rfm_perf::prelude::*;

#[path = "shared/screenshot.rs"]
mod screenshot;

/// What the command line asked for.
#[derive(Resource, Default)]
struct Script {
    dashboard: Option<String>,
    exit_after: u32,
    screenshot: Option<PathBuf>,
    frame: u32,
}

fn parse() -> Result<Script, String> {
    let mut s = Script::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--dashboard" => s.dashboard = Some(value()?),
            "--exit-after" => {
                let v = value()?;
                s.exit_after = v
                    .parse()
                    .map_err(|_| format!("--exit-after: {v:?} is not a frame count"))?;
            }
            "--screenshot" => s.screenshot = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if let Some(d) = &s.dashboard
        && d != "compact"
        && d != "full"
    {
        return Err(format!("--dashboard: {d:?} is not compact or full"));
    }
    Ok(s)
}

/// A square that bounces around the window.
#[derive(Component)]
struct Mover(Vec2);

fn setup(mut commands: Commands) {
    commands.spawn(Camera2d);
    let colors = [
        Color::srgb(0.85, 0.3, 0.3),
        Color::srgb(0.3, 0.55, 0.85),
        Color::srgb(0.35, 0.7, 0.4),
        Color::srgb(0.9, 0.7, 0.2),
    ];
    for i in 0..24 {
        let f = i as f32;
        commands.spawn((
            Sprite::from_color(colors[i % colors.len()], Vec2::splat(40.0)),
            Transform::from_xyz(-500.0 + f * 43.0, -200.0 + (f * 37.0) % 400.0, 0.0),
            Mover(Vec2::new(120.0 + f * 7.0, 90.0 - f * 5.0)),
        ));
    }
    // the game's own HUD along the bottom edge
    commands.spawn((
        Sprite::from_color(Color::srgb(0.2, 0.2, 0.25), Vec2::new(1280.0, 48.0)),
        Transform::from_xyz(0.0, -376.0, 1.0),
    ));
    for i in 0..6 {
        commands.spawn((
            Sprite::from_color(Color::srgb(0.95, 0.95, 0.95), Vec2::new(90.0, 14.0)),
            Transform::from_xyz(-560.0 + i as f32 * 110.0, -376.0, 2.0),
        ));
    }
}

fn movement(time: Res<Time>, mut movers: Query<(&mut Transform, &mut Mover)>) {
    perf_scope!("game.movement");
    let dt = time.delta_secs();
    for (mut t, mut m) in &mut movers {
        t.translation += (m.0 * dt).extend(0.0);
        if t.translation.x.abs() > 600.0 {
            m.0.x = -m.0.x;
        }
        if !(-330.0..=380.0).contains(&t.translation.y) {
            m.0.y = -m.0.y;
        }
    }
}

fn run_script(
    mut commands: Commands,
    mut script: ResMut<Script>,
    mut exit: MessageWriter<AppExit>,
    visibility: Option<ResMut<rfm_perf::ui::DashboardVisibility>>,
    #[cfg(feature = "dashboard")] dashboard: Option<ResMut<rfm_perf::ui::DashboardUi>>,
) {
    script.frame += 1;
    if script.frame == 1
        && let Some(layout) = script.dashboard.clone()
    {
        if let Some(mut v) = visibility {
            v.visible = true;
        }
        #[cfg(feature = "dashboard")]
        if let Some(mut ui) = dashboard {
            ui.layout = if layout == "full" {
                rfm_perf::ui::Layout::Full
            } else {
                rfm_perf::ui::Layout::Compact
            };
        }
        #[cfg(not(feature = "dashboard"))]
        let _ = layout;
    }
    if script.exit_after == 0 || script.frame != script.exit_after {
        if script.exit_after > 0 && script.frame > script.exit_after + 600 {
            exit.write(AppExit::error());
        }
        return;
    }
    screenshot::finish(&mut commands, &mut exit, script.screenshot.clone());
}

fn main() -> AppExit {
    let script = match parse() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return AppExit::error();
        }
    };
    App::new()
        .add_plugins(DefaultPlugins.set(WindowPlugin {
            primary_window: Some(Window {
                title: "a 2D game with rfm_perf".into(),
                resolution: (1280, 800).into(),
                ..default()
            }),
            ..default()
        }))
        .add_plugins(RfmPerfPlugin::default().with_api(false))
        .insert_resource(ClearColor(Color::srgb(0.86, 0.86, 0.88)))
        .insert_resource(script)
        .add_systems(Startup, setup)
        .add_systems(Update, (movement, run_script))
        .run()
}
