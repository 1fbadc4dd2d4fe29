//! An example mod_rswebsocket plugin with three handlers:
//! `shout` and `clock` (event style) and `count` (blocking style).
mod clock;
mod count;
mod shout;

rswebsocket_sdk::export_handlers! {
    event "shout" => shout::Shout,
    event "clock" => clock::Clock,
    blocking "count" => count::Count,
}
