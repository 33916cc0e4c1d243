//! Everything for changing a route's weights: the card per VirtualService, the panel per route,
//! the linked slider per destination, presets, the pure split arithmetic behind them, and the
//! warnings for routes another controller manages.

pub mod ownership;
pub mod preset_buttons;
pub mod read_only_route;
pub mod split;
pub mod test_ids;
pub mod virtual_service_card;
pub mod weight_panel;
pub mod weight_slider;
