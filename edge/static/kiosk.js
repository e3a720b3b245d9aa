// The kiosk's visitor page. Every visitor starts clean: the form is emptied as soon as a profile is
// shown, and everything on screen goes after IDLE seconds without a touch or a key (or on 重新开始).
// Failures are shown as fixed Chinese sentences chosen by HTTP status and error code; the server's
// messages never reach the screen. Server data is inserted with textContent only.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const form = $("form"), text = $("text"), avatar = $("avatar"), avatarGroup = $("avatar-group");
  const chosen = $("avatar-chosen"), submit = $("submit"), reset = $("reset"), notice = $("notice");
  const loading = $("loading"), errorEl = $("error"), result = $("result"), resultTitle = $("result-title");
  const masked = $("masked"), tags = $("tags"), why = $("why"), ocrEl = $("ocr");

  const idleSeconds = Number(body.dataset.idleSeconds);
  const IDLE_MS = (idleSeconds > 0 ? idleSeconds : 60) * 1000;
  const MAX_AVATAR_BYTES = 2 * 1024 * 1024;
  const REQUEST_TIMEOUT_MS = 30000;
  const READY_POLL_MS = 30000;

  const PII_LABELS = {PHONE: "手机号", LANDLINE: "电话号码", ID_CARD: "身份证号", BANK_CARD: "银行卡号",
                      EMAIL: "邮箱", QQ: "QQ 号", WECHAT: "微信号"};
  const MESSAGES = {
    empty: "请先写几句关于你自己的话。",
    offline: "暂时连接不上分析服务。请稍后再试，或联系工作人员。",
    timeout: "分析用时太久了，请再试一次。",
    notReady: "系统正在准备中，暂时无法分析。请稍后再试，或联系工作人员。",
    server: "系统出了点问题，这次没有分析成功。请稍后再试，或联系工作人员。",
    tooLong: "文字太长了，请删减到 2000 字以内。",
    imageTooLarge: "图片太大了，请换一张不超过 2 MB 的图片。",
    badImage: "这张图片无法识别，请换一张 JPEG、PNG 或 WebP 格式的图片。",
    unreadableImage: "无法读取这张图片，请换一张再试。",
    rejected: "这次提交无法处理，请修改后再试。",
  };
  const BY_CODE = {
    text_too_long: "tooLong", field_too_long: "tooLong", body_too_large: "tooLong",
    avatar_too_large: "imageTooLarge", avatar_too_many_pixels: "imageTooLarge",
    invalid_avatar: "badImage", unsupported_avatar_format: "badImage",
  };

  let ocrAvailable = false;

  function messageFor(status, code) {
    if (BY_CODE[code]) return MESSAGES[BY_CODE[code]];
    if (status === 503) return MESSAGES.notReady;
    if (status >= 500) return MESSAGES.server;
    return MESSAGES.rejected;
  }

  function setState(state) { body.dataset.state = state; }

  function clearForm() {
    text.value = "";
    avatar.value = "";
    chosen.textContent = "";
  }

  function clearOutput() {
    errorEl.textContent = ""; errorEl.hidden = true;
    masked.textContent = ""; masked.hidden = true;
    tags.textContent = ""; why.textContent = "";
    $("ocr-lines").textContent = ""; $("ocr-change").textContent = ""; ocrEl.hidden = true;
    result.hidden = true;
  }

  function startOver(byVisitor) {
    clearForm();
    clearOutput();
    setState("idle");
    if (byVisitor) {
      text.focus();
    } else if (document.activeElement && document.activeElement !== body) {
      document.activeElement.blur();  // no on-screen keyboard popping up for nobody
    }
    refreshReady();
  }

  function showError(message) {
    errorEl.textContent = message;
    errorEl.hidden = false;
    if (notice.textContent === message) notice.hidden = true;  // said once, where the visitor is looking
    setState("done");
  }

  function maskedNotice(data) {
    const counts = Object.assign({}, data.pii_masked || {});
    if (data.ocr && data.ocr.pii_masked) {
      for (const [k, v] of Object.entries(data.ocr.pii_masked)) counts[k] = (counts[k] || 0) + v;
    }
    const labels = [];
    for (const [kind, n] of Object.entries(counts)) {
      const label = PII_LABELS[kind] || "个人信息";
      if (n > 0 && !labels.includes(label)) labels.push(label);
    }
    return labels.length ? "已隐藏" + labels.join("、") + "，原文不会保存。" : "";
  }

  function showOcr(ocr, topTag) {  // what the avatar contributed (masked lines; textContent only)
    if (!ocr || !ocr.available) return;
    $("ocr-lines").textContent = ocr.lines && ocr.lines.length ? ocr.lines.join(" | ") : "（没有读到文字）";
    let change = "";
    if (ocr.used) {
      change = ocr.changed_top_tag ? "头像改变了首选兴趣：" + (ocr.text_only_top_tag || "无") + " → " + (topTag || "无")
                                   : "头像没有改变首选兴趣";
      change += "（画像变化 " + Math.round((ocr.profile_shift || 0) * 100) + "%）";
    }
    $("ocr-change").textContent = change;
    ocrEl.hidden = false;
  }

  const MAX_SHOWN_TAGS = 5;

  function showResult(data) {
    const notice = maskedNotice(data);
    masked.textContent = notice;
    masked.hidden = !notice;
    // a vote can name up to 12 tags; the visitor reads the strongest few on one screen (at 1920x1080 seven
    // tags pushed the answer below the fold)
    for (const t of data.tags.slice(0, MAX_SHOWN_TAGS)) {
      const li = document.createElement("li");
      li.className = "tag";
      const name = document.createElement("span"); name.className = "name"; name.textContent = t.tag;
      const bar = document.createElement("span"); bar.className = "bar";
      const fill = document.createElement("span"); fill.className = "fill";
      fill.style.width = Math.max(0, Math.min(100, t.score * 100)).toFixed(0) + "%";
      bar.append(fill);
      const score = document.createElement("span"); score.className = "score";
      score.textContent = Math.round(t.score * 100) + "%";
      li.append(name, bar, score);
      tags.append(li);
    }
    why.textContent = data.why || "";
    showOcr(data.ocr, data.top_tag);
    result.hidden = false;
    setState("done");
    resultTitle.focus({preventScroll: true});
  }

  function readAvatar(file) {  // the chosen image as a data: URL (the API accepts it as "avatar")
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(reader.result);
      reader.onerror = () => reject(new Error("unreadable"));
      reader.readAsDataURL(file);
    });
  }

  function busy(on) {
    loading.hidden = !on;
    submit.disabled = on;
    form.setAttribute("aria-busy", on ? "true" : "false");
    if (on) setState("loading");
  }

  async function profile() {
    if (body.dataset.state === "loading") return;
    const file = ocrAvailable && avatar.files.length ? avatar.files[0] : null;
    clearOutput();
    if (!text.value.trim() && !file) { showError(MESSAGES.empty); text.focus(); return; }
    if (file && file.size > MAX_AVATAR_BYTES) { showError(MESSAGES.imageTooLarge); return; }
    busy(true);
    const payload = {text: text.value};
    if (file) {
      try { payload.avatar = await readAvatar(file); } catch (e) { busy(false); showError(MESSAGES.unreadableImage); return; }
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    let res, data = null;
    try {
      res = await fetch("/api/profile", {method: "POST", headers: {"Content-Type": "application/json"},
                                         body: JSON.stringify(payload), signal: controller.signal});
      try { data = await res.json(); } catch (e) { data = null; }
    } catch (e) {
      busy(false);
      showError(e && e.name === "AbortError" ? MESSAGES.timeout : MESSAGES.offline);
      return;
    } finally {
      clearTimeout(timer);
    }
    busy(false);
    if (!res.ok || !data || !Array.isArray(data.tags)) {
      const code = data && data.error && typeof data.error.code === "string" ? data.error.code : "";
      showError(messageFor(res.status, code));
      if (res.status === 503) refreshReady();
      return;
    }
    clearForm();  // the visitor's words leave the screen as soon as they have been analysed
    showResult(data);
  }

  async function refreshReady() {
    try {
      const res = await fetch("/api/ready", {cache: "no-store"});
      const data = await res.json();
      ocrAvailable = data.ocr === true;
      notice.textContent = data.ready ? "" : MESSAGES.notReady;
    } catch (e) {
      ocrAvailable = false;
      notice.textContent = MESSAGES.offline;
    }
    // shown unless empty or already said by the error line the visitor is reading
    notice.hidden = !notice.textContent || (!errorEl.hidden && errorEl.textContent === notice.textContent);
    avatarGroup.hidden = !ocrAvailable;
    if (!ocrAvailable) { avatar.value = ""; chosen.textContent = ""; }
    body.dataset.ocr = ocrAvailable ? "yes" : "no";
  }

  // -- idle: any touch, click, key or scroll restarts the countdown ------------------------------
  let idleTimer = null;
  function armIdle() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(onIdle, IDLE_MS);
  }
  function onIdle() {
    if (body.dataset.state === "loading") { armIdle(); return; }  // the answer is on its way: wait for it
    startOver(false);
    body.dataset.idleResets = String(Number(body.dataset.idleResets || 0) + 1);
    armIdle();
  }
  for (const type of ["pointerdown", "keydown", "input", "change", "wheel", "touchstart"]) {
    document.addEventListener(type, armIdle, {capture: true, passive: true});
  }

  form.addEventListener("submit", (ev) => { ev.preventDefault(); profile(); });
  reset.addEventListener("click", () => startOver(true));
  text.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); profile(); }
  });
  avatar.addEventListener("change", () => {
    // the file's name may itself be personal ("张三身份证.jpg"): say only that one was chosen
    chosen.textContent = avatar.files.length ? "已选择 1 张图片" : "";
  });

  refreshReady();
  setInterval(refreshReady, READY_POLL_MS);
  armIdle();
})();
