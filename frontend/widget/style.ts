// The widget's CSS, inside its shadow root. `:host { all: initial !important }` wins over
// any `!important` rule of the host page (inner important rules win across shadow trees),
// and only px units are used: `rem` would follow the host page's root font size.
export const CSS = `
:host { all: initial !important; display: block !important; }
.root, .root * { box-sizing: border-box; margin: 0; padding: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 15px; line-height: 1.4; color: #1d2733; letter-spacing: normal; text-transform: none; text-align: left; }
.root { position: fixed; right: 16px; bottom: 16px; z-index: 2147483647; display: flex; flex-direction: column; align-items: flex-end; gap: 12px; }
button, input, textarea { font: inherit; color: inherit; }
button { cursor: pointer; border: 0; background: none; }
:focus-visible { outline: 3px solid #f9a825; outline-offset: 2px; }
.launcher { width: 60px; height: 60px; border-radius: 30px; background: #0b57d0; color: #fff; display: flex; align-items: center; justify-content: center; box-shadow: 0 4px 14px rgba(0,0,0,.25); }
.launcher svg { width: 30px; height: 30px; fill: #fff; }
.panel { width: 360px; height: 540px; max-height: calc(100vh - 100px); background: #fff; border-radius: 12px; box-shadow: 0 8px 30px rgba(0,0,0,.3); display: flex; flex-direction: column; overflow: hidden; }
.panel[hidden], .bubble[hidden], [hidden] { display: none !important; }
.head { background: #0b57d0; color: #fff; padding: 10px 12px; display: flex; align-items: center; gap: 8px; }
.head * { color: #fff; }
.head h2 { flex: 1; font-size: 16px; font-weight: 600; }
.head button { padding: 4px 8px; border-radius: 6px; font-size: 13px; }
.head button:hover { background: rgba(255,255,255,.15); }
.status { padding: 6px 12px; font-size: 13px; color: #44515f; background: #eef2f8; min-height: 28px; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
.msg { max-width: 85%; padding: 8px 10px; border-radius: 10px; white-space: pre-wrap; word-wrap: break-word; overflow-wrap: anywhere; }
.msg small { display: block; font-size: 11px; color: #5f6b7a; margin-bottom: 2px; }
.visitor { align-self: flex-end; background: #0b57d0; }
.visitor, .visitor * { color: #fff; }
.visitor small { color: #dce6fb; }
.agent, .bot { align-self: flex-start; background: #eef2f8; }
.msg .who { display: flex; align-items: center; gap: 6px; margin-bottom: 4px; }
.who span { font-size: 11px; color: #44515f; }
.who .name { font-weight: 600; }
.who .role { background: #dde3ea; border-radius: 8px; padding: 0 6px; }
.who .avatar { width: 24px; height: 24px; border-radius: 12px; object-fit: cover; flex: none; }
.system { align-self: flex-start; background: #fff7e0; border: 1px solid #f3d98b; }
.pending { opacity: .6; }
.typing { font-size: 13px; color: #5f6b7a; padding: 0 12px 4px; min-height: 18px; }
form, .view { padding: 12px; display: flex; flex-direction: column; gap: 8px; overflow-y: auto; }
.view { flex: 1; }
.transcript { flex: none; border-top: 1px solid #dde3ea; }
h3 { font-size: 16px; font-weight: 600; }
label { font-size: 13px; font-weight: 600; display: flex; flex-direction: column; gap: 4px; }
input, textarea { border: 1px solid #9aa5b1; border-radius: 6px; padding: 8px; background: #fff; width: 100%; display: block; }
[aria-invalid="true"] { border-color: #b3261e; }
textarea { resize: none; min-height: 44px; }
.compose { flex-direction: row; align-items: flex-end; border-top: 1px solid #dde3ea; padding: 8px; overflow: visible; }
.compose textarea { flex: 1; max-height: 120px; }
.primary { background: #0b57d0; color: #fff; padding: 9px 14px; border-radius: 6px; font-weight: 600; }
.secondary { background: #eef2f8; padding: 9px 14px; border-radius: 6px; }
.stars { display: flex; gap: 4px; }
.stars button { font-size: 28px; line-height: 1; color: #9aa5b1; padding: 2px; }
.stars button[aria-checked="true"] { color: #f9a825; }
.bubble { width: 300px; max-width: calc(100vw - 32px); background: #fff; border-radius: 12px; box-shadow: 0 6px 24px rgba(0,0,0,.25); padding: 14px; display: flex; flex-direction: column; gap: 10px; }
.bubble p { font-size: 15px; }
.bubble .from, .invited strong { font-weight: 600; }
.invited { margin: 8px 12px 0; font-size: 14px; }
.row { display: flex; gap: 8px; justify-content: flex-end; }
.error { color: #b3261e; font-size: 13px; }
.notice { font-size: 12px; color: #5f6b7a; padding: 0 12px 8px; }
form .notice { padding: 0; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.clip { flex: none; width: 38px; height: 44px; border-radius: 6px; display: flex; align-items: center; justify-content: center; }
.clip:hover { background: #eef2f8; }
.clip svg { width: 22px; height: 22px; fill: #44515f; }
.msg .file { display: block; max-width: 100%; border-radius: 8px; overflow: hidden; }
.thumb { display: block; max-width: 200px; max-height: 200px; object-fit: contain; background: #dde3ea; }
.chip { display: flex; flex-direction: column; padding: 6px 10px; background: #fff; border-radius: 8px; }
.msg .chip .name { font-weight: 600; color: #1d2733; overflow-wrap: anywhere; }
.msg .chip .size { font-size: 12px; color: #44515f; }
.dropping { outline: 3px dashed #0b57d0; outline-offset: -6px; }
.attach-error { padding: 4px 12px; }
@media (max-width: 480px) {
  .root { right: 8px; bottom: 8px; left: 8px; }
  .panel { position: fixed; inset: 0; width: 100vw; height: 100%; max-height: none; border-radius: 0; }
  .bubble { width: auto; }
}
`;
