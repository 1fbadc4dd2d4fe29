//! `--name value` command-line flags, each with a bound, so no run can be
//! unbounded by accident.
use std::collections::HashMap;

pub struct Args {
    values: HashMap<String, Vec<String>>,
    switches: Vec<String>,
}

impl Args {
    /// `switch_names` take no value; every other `--flag` takes one.
    pub fn parse(
        argv: impl Iterator<Item = String>,
        switch_names: &[&str],
    ) -> Result<Args, String> {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        let mut switches = Vec::new();
        let mut argv = argv.peekable();
        while let Some(arg) = argv.next() {
            let name = arg
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument '{arg}'"))?
                .to_string();
            if switch_names.contains(&name.as_str()) {
                switches.push(name);
                continue;
            }
            let value = argv
                .next()
                .ok_or_else(|| format!("--{name} needs a value"))?;
            values.entry(name).or_default().push(value);
        }
        Ok(Args { values, switches })
    }

    pub fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.values.get(name).cloned().unwrap_or_default()
    }

    /// A number in `1..=max` (sizes accept K and M suffixes, powers of 1024).
    pub fn bounded(&self, name: &str, default: u64, max: u64) -> Result<u64, String> {
        let Some(text) = self.text(name) else {
            return Ok(default);
        };
        let (digits, scale) = match text.as_bytes().last() {
            Some(b'K' | b'k') => (&text[..text.len() - 1], 1024),
            Some(b'M' | b'm') => (&text[..text.len() - 1], 1024 * 1024),
            _ => (text, 1),
        };
        let n = digits
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(scale))
            .ok_or_else(|| format!("--{name}: '{text}' is not a number"))?;
        if n == 0 || n > max {
            return Err(format!("--{name}: {n} is outside 1..={max}"));
        }
        Ok(n)
    }

    /// Flags nobody asked for are mistakes, not things to ignore.
    pub fn reject_unknown(&self, known: &[&str]) -> Result<(), String> {
        for name in self.values.keys() {
            if !known.contains(&name.as_str()) {
                return Err(format!("unknown flag --{name}"));
            }
        }
        Ok(())
    }
}
