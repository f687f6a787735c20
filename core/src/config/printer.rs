pub fn print(_c: &crate::config::Config) -> String { String::new() }
