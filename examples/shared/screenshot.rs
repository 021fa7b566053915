//! What the examples' `--screenshot PATH` does: save the primary window, then exit.

use std::path::PathBuf;

use bevy::prelude::*;
use bevy::render::view::window::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};

/// Takes a screenshot of the primary window into `path` and exits once it is saved.
pub fn save_and_exit(commands: &mut Commands, path: PathBuf) {
    commands
        .spawn(Screenshot::primary_window())
        .observe(save_to_disk(path.clone()))
        .observe(
            move |_: On<ScreenshotCaptured>, mut exit: MessageWriter<AppExit>| {
                info!("screenshot saved to {}", path.display());
                exit.write(AppExit::Success);
            },
        );
}

/// The end of a scripted run: the screenshot when one was asked for (exiting once saved), an
/// exit at once otherwise.
pub fn finish(commands: &mut Commands, exit: &mut MessageWriter<AppExit>, path: Option<PathBuf>) {
    match path {
        Some(path) => save_and_exit(commands, path),
        None => {
            exit.write(AppExit::Success);
        }
    }
}
