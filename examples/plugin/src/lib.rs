//! An example mod_rswebsocket plugin with four handlers: `echo`, `shout`
//! and `clock` (event style) and `count` (blocking style).
mod clock;
mod count;
mod echo;
mod shout;

rswebsocket_sdk::export_handlers! {
    event "echo" => echo::Echo,
    event "shout" => shout::Shout,
    event "clock" => clock::Clock,
    blocking "count" => count::Count,
}
