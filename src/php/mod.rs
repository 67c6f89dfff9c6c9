//! The PHP binding: the module, its startup and shutdown. Thin: it converts zvals to plain
//! values, calls the mail code, and turns its `Error` into an exception or a warning in one
//! place (`errors`). All raw Zend calls are in `zend`.

mod args;
mod errors;
mod functions;
mod info;
pub mod ini;
mod logger;
pub mod mail_override;
mod zend;

use ext_php_rs::prelude::*;

use crate::pool;

/// MINIT. ext-php-rs calls it outside its own panic guard, so it guards itself.
pub fn startup(_ty: i32, module_number: i32) -> i32 {
    zend::guard("module startup", -1, || {
        logger::install();
        ini::register(module_number);
        if let Err(e) = errors::register() {
            zend::log_error(&format!("smtp: cannot register the exception classes: {e}"));
            return -1;
        }
        mail_override::install();
        functions::declare_types();
        crate::slots::prepare();
        // Thread-safe PHP runs many PHP threads in one process: a pool for each.
        pool::per_thread(ext_php_rs::PHP_ZTS);
        0
    })
}

/// MSHUTDOWN: mail() gets its own handler back, kept connections are closed, the ini entries
/// go.
pub extern "C" fn shutdown(_ty: i32, module_number: i32) -> i32 {
    zend::guard("module shutdown", 0, || {
        zend::restore_mail_handler();
        pool::shutdown();
        zend::unregister_ini_entries(module_number);
        0
    })
}

#[php_module]
#[php(startup = "startup")]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    functions::register(module.name("smtp"))
        .info_function(info::module_info)
        .shutdown_function(shutdown)
        .post_deactivate_function(ini::end_request)
}
