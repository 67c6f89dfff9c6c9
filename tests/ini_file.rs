//! The shipped ini file and the README list every setting the extension registers, with the
//! same defaults: users copy them, so they must not drift from the code.

use smtp::config::SETTINGS;

fn read(path: &str) -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_string() + path).unwrap()
}

#[test]
fn ini_file_has_every_setting_with_its_default() {
    let ini = read("ini/smtp.ini");
    for setting in SETTINGS {
        let (name, default) = (setting.name, setting.default);
        let line = ini
            .lines()
            .find(|l| l.split('=').next().map(str::trim) == Some(&format!("smtp.{name}")))
            .unwrap_or_else(|| panic!("ini/smtp.ini lacks smtp.{name}"));
        let value = line.split_once('=').unwrap().1.trim();
        assert_eq!(value, default, "ini/smtp.ini: smtp.{name}");
    }
}

#[test]
fn readme_documents_every_setting() {
    let readme = read("README.md");
    for setting in SETTINGS {
        let name = setting.name;
        assert!(
            readme.contains(&format!("| `smtp.{name}` |")),
            "README.md's settings table lacks smtp.{name}"
        );
    }
}
