//! Pages of the app; there is one today, the routes page.

pub mod routes_page;
