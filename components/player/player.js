// The Reelhouse player: a <video> that reports its position to Python (trigger value "report") every
// `every` seconds while playing, on pause and at the end, and every `idle` seconds while paused (a
// heartbeat that keeps the stream's screen). Positions are clip seconds; Python scales them to the real
// running time, and so does the label under the video. Built once per mount; later renders only update
// the data it reads (stop, report cadence).
const COOKIE = "reelhouse_device";

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(h ? 2 : 1, "0"), ss = String(r).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

function rememberDevice(device) {
  if (device && !document.cookie.split("; ").some((c) => c.startsWith(COOKIE + "="))) {
    document.cookie = `${COOKIE}=${device}; Max-Age=31536000; Path=/; SameSite=Lax`;
  }
}

function build(parentElement, setTriggerValue) {
  const box = document.createElement("div");
  box.className = "rh-player";
  const video = document.createElement("video");
  video.controls = true;
  video.playsInline = true;
  video.preload = "auto";
  const label = document.createElement("div");
  label.className = "rh-time";
  label.setAttribute("aria-live", "off");
  box.append(video, label);
  parentElement.appendChild(box);

  const state = { seq: 0, lastSent: 0, started: false, data: null };
  video.rh = state;
  const showTime = () => {
    const d = state.data;
    if (!d || !isFinite(video.duration) || video.duration <= 0) return;
    const real = (video.currentTime / video.duration) * d.runtime;
    label.textContent = `${clock(real)} / ${clock(d.runtime)} · ${d.caption}`;
    video.dataset.position = String(Math.round(real));
  };
  const send = (kind) => {
    const d = state.data;
    if (!d || !d.report || d.stop || !isFinite(video.duration) || video.duration <= 0) return;
    state.seq += 1;
    state.lastSent = Date.now();
    setTriggerValue("report", {
      kind, t: video.currentTime, d: video.duration, ended: kind === "ended", seq: state.seq,
    });
  };
  video.addEventListener("loadedmetadata", () => {
    const d = state.data;
    if (state.started) return;
    state.started = true;
    const start = (d.start / Math.max(d.runtime, 1)) * video.duration;
    if (start > 0 && start < video.duration) video.currentTime = start;
    showTime();
    if (d.autoplay) video.play().catch(() => {});
  });
  video.addEventListener("timeupdate", () => {
    showTime();
    if (!video.paused && Date.now() - state.lastSent >= state.data.every * 1000) send("progress");
  });
  video.addEventListener("pause", () => { if (!video.ended) send("pause"); });
  video.addEventListener("ended", () => send("ended"));
  state.timer = setInterval(() => {
    if (video.paused && !video.ended && Date.now() - state.lastSent >= state.data.idle * 1000) send("heartbeat");
  }, 1000);
  return video;
}

export default function ({ data, setTriggerValue, parentElement }) {
  rememberDevice(data.device);
  const video = parentElement.querySelector("video") || build(parentElement, setTriggerValue);
  video.rh.data = data;
  if (video.getAttribute("src") !== data.src) {
    video.rh.started = false;
    video.src = data.src;
  }
  if (data.stop) {
    video.pause();
    video.controls = false;
  }
  return () => {
    clearInterval(video.rh.timer);
  };
}
