"""The kiosk's one web page (Chinese UI). Results are inserted with textContent, never as HTML."""
from __future__ import annotations

PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>兴趣画像</title>
<style>
 body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; max-width: 40em;
        margin: 2em auto; padding: 0 1em; color: #222; }
 textarea { width: 100%; height: 6em; font-size: 1.1em; box-sizing: border-box; }
 button { font-size: 1.1em; padding: .4em 1.6em; margin-top: .5em; }
 #tags li { font-size: 1.2em; margin: .2em 0; }
 .score { color: #666; margin-left: .6em; }
 #why { color: #333; margin-top: 1em; }
 #error { color: #b00; }
 #ocr { color: #333; background: #f6f6f6; padding: .4em .8em; }
 #status { color: #888; font-size: .85em; margin-top: 3em; border-top: 1px solid #ddd; padding-top: .5em; }
</style>
</head>
<body>
<h1>兴趣画像</h1>
<form id="form">
  <label for="text">介绍一下你自己（爱好、职业、最近在做什么）：</label>
  <textarea id="text" name="text" maxlength="2000" placeholder="例如：我喜欢看科幻电影和打篮球"></textarea>
  <label for="avatar">头像（可选，JPEG/PNG/WebP，不超过 2 MB；图中的文字会一起分析）：</label>
  <input id="avatar" name="avatar" type="file" accept="image/jpeg,image/png,image/webp">
  <button id="submit" type="submit">提交</button>
</form>
<p id="error" role="alert"></p>
<ol id="tags"></ol>
<p id="why"></p>
<div id="ocr" hidden><p>头像中读到的文字（已遮盖个人信息）：<span id="ocr-lines"></span></p><p id="ocr-change"></p></div>
<p>个人信息（手机号、身份证号、邮箱等）会在分析前被遮盖，原文不会被保存。</p>
<div id="status">状态加载中…</div>
<script>
const form = document.getElementById("form");
const tagsEl = document.getElementById("tags");
const whyEl = document.getElementById("why");
const errEl = document.getElementById("error");
const ocrEl = document.getElementById("ocr");
const MAX_AVATAR_BYTES = 2 * 1024 * 1024;
function readAvatar() {  // the chosen image as a data: URL (the API accepts it as "avatar"), or null
  const file = document.getElementById("avatar").files[0];
  if (!file) return Promise.resolve(null);
  if (file.size > MAX_AVATAR_BYTES) return Promise.reject(new Error("头像图片超过 2 MB"));
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(new Error("无法读取头像图片"));
    r.readAsDataURL(file);
  });
}
function showOcr(ocr, topTag) {  // what the avatar contributed; textContent only (OCR text is user content)
  if (!ocr) { ocrEl.hidden = true; return; }
  document.getElementById("ocr-lines").textContent = ocr.lines.length ? ocr.lines.join(" | ") :
    (ocr.available ? "（没有读到文字）" : "（本机不支持识别图片文字）");
  let change = "";
  if (ocr.used) {
    change = ocr.changed_top_tag ? "头像改变了首选兴趣：" + (ocr.text_only_top_tag || "无") + " → " + (topTag || "无")
                                 : "头像没有改变首选兴趣";
    change += "（画像变化 " + Math.round(ocr.profile_shift * 100) + "%）";
  }
  document.getElementById("ocr-change").textContent = change;
  ocrEl.hidden = false;
}
form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  errEl.textContent = ""; tagsEl.textContent = ""; whyEl.textContent = ""; ocrEl.hidden = true;
  document.body.dataset.state = "loading";
  let avatar = null;
  try { avatar = await readAvatar(); } catch (e) {
    errEl.textContent = "出错了：" + e.message; document.body.dataset.state = "done"; return;
  }
  try {
    const payload = {text: document.getElementById("text").value};
    if (avatar) payload.avatar = avatar;
    const res = await fetch("/api/profile", {method: "POST", headers: {"Content-Type": "application/json"},
                                             body: JSON.stringify(payload)});
    const body = await res.json();
    if (!res.ok) {
      errEl.textContent = "出错了：" + ((body.error && body.error.message) || res.status);
    } else {
      for (const t of body.tags) {
        const li = document.createElement("li");
        li.className = "tag";
        const name = document.createElement("span"); name.className = "name"; name.textContent = t.tag;
        const score = document.createElement("span"); score.className = "score"; score.textContent = t.score.toFixed(2);
        li.append(name, score);
        tagsEl.append(li);
      }
      whyEl.textContent = body.why || "";
      showOcr(body.ocr, body.top_tag);
    }
  } catch (e) {
    errEl.textContent = "无法连接本机服务";
  }
  document.body.dataset.state = "done";
  refreshStatus();
});
async function refreshStatus() {
  const el = document.getElementById("status");
  try {
    const body = await (await fetch("/api/health")).json();
    const k = body.kiosk || {};
    const sync = k.sync || {}, outbox = k.outbox || {};
    let line = body.ready ? "模型版本 " + body.release : "未加载模型：" + ((body.error && body.error.message) || "");
    line += " · 待上传 " + (outbox.pending ?? "?") + " 条";
    line += sync.last_error ? " · 同步失败（离线？）" : (sync.last_sync ? " · 已同步" : " · 尚未同步");
    if (k.disk_full) line += " · 磁盘已满：" + k.disk_full;
    el.textContent = line;
  } catch (e) { el.textContent = "状态不可用"; }
}
refreshStatus();
setInterval(refreshStatus, 30000);
</script>
</body>
</html>
"""
