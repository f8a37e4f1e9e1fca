//! [`Registry`]: every workflow definition of a directory, by name and version.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::definition::Definition;
use crate::error::LoadError;

/// Validated workflow definitions keyed by `(name, version)`.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    definitions: BTreeMap<(String, u32), Definition>,
}

impl Registry {
    /// Loads every `*.toml` file of `dir` (not its subdirectories), in file-name order.
    ///
    /// # Errors
    /// Every [`LoadError`] of every file, not just the first: unreadable directory or files
    /// (line 0), invalid files (see [`Definition::check`]), and two files declaring the same
    /// `(name, version)`.
    pub fn load_dir(dir: &Path) -> Result<Registry, Vec<LoadError>> {
        let dir_name = dir.display().to_string();
        let entries = std::fs::read_dir(dir).map_err(|e| {
            vec![LoadError::new(
                dir_name.clone(),
                0,
                format!("cannot read directory: {e}"),
            )]
        })?;
        let mut paths: Vec<PathBuf> = Vec::new();
        let mut errors = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => {
                    let path = entry.path();
                    if path.is_file() && path.extension().is_some_and(|ext| ext == "toml") {
                        paths.push(path);
                    }
                }
                Err(e) => errors.push(LoadError::new(
                    dir_name.clone(),
                    0,
                    format!("cannot read directory: {e}"),
                )),
            }
        }
        paths.sort();
        let mut registry = Registry::default();
        for path in paths {
            match Definition::load_checked(&path) {
                Ok(def) => registry.insert(def, &mut errors),
                Err(file_errors) => errors.extend(file_errors),
            }
        }
        if errors.is_empty() {
            Ok(registry)
        } else {
            Err(errors)
        }
    }

    /// Builds a registry from `(file name, text)` pairs, e.g. files embedded in the binary.
    ///
    /// # Errors
    /// Every [`LoadError`] of every file, as [`Registry::load_dir`].
    pub fn from_files(files: &[(&str, &str)]) -> Result<Registry, Vec<LoadError>> {
        let mut registry = Registry::default();
        let mut errors = Vec::new();
        for (file, text) in files {
            match Definition::check(file, text) {
                Ok(def) => registry.insert(def, &mut errors),
                Err(file_errors) => errors.extend(file_errors),
            }
        }
        if errors.is_empty() {
            Ok(registry)
        } else {
            Err(errors)
        }
    }

    fn insert(&mut self, def: Definition, errors: &mut Vec<LoadError>) {
        let key = (def.name.clone(), def.version);
        if let Some(first) = self.definitions.get(&key) {
            errors.push(LoadError::new(
                def.file.clone(),
                1,
                format!(
                    "workflow `{}` version {} is already defined in `{}`",
                    def.name, def.version, first.file
                ),
            ));
        } else {
            self.definitions.insert(key, def);
        }
    }

    /// The definition of workflow `name`, version `version`.
    pub fn get(&self, name: &str, version: u32) -> Option<&Definition> {
        self.definitions.get(&(name.to_string(), version))
    }

    /// The highest version of workflow `name` (the one new instances start on).
    pub fn latest(&self, name: &str) -> Option<&Definition> {
        self.definitions
            .range((name.to_string(), 0)..=(name.to_string(), u32::MAX))
            .next_back()
            .map(|(_, def)| def)
    }

    /// Every definition, ordered by name, then version.
    pub fn iter(&self) -> impl Iterator<Item = &Definition> {
        self.definitions.values()
    }

    /// Number of definitions.
    pub fn len(&self) -> usize {
        self.definitions.len()
    }

    /// Whether the registry holds no definition.
    pub fn is_empty(&self) -> bool {
        self.definitions.is_empty()
    }
}
