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
 #status { color: #888; font-size: .85em; margin-top: 3em; border-top: 1px solid #ddd; padding-top: .5em; }
</style>
</head>
<body>
<h1>兴趣画像</h1>
<form id="form">
  <label for="text">介绍一下你自己（爱好、职业、最近在做什么）：</label>
  <textarea id="text" name="text" maxlength="2000" placeholder="例如：我喜欢看科幻电影和打篮球"></textarea>
  <button id="submit" type="submit">提交</button>
</form>
<p id="error" role="alert"></p>
<ol id="tags"></ol>
<p id="why"></p>
<p>个人信息（手机号、身份证号、邮箱等）会在分析前被遮盖，原文不会被保存。</p>
<div id="status">状态加载中…</div>
<script>
const form = document.getElementById("form");
const tagsEl = document.getElementById("tags");
const whyEl = document.getElementById("why");
const errEl = document.getElementById("error");
form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  errEl.textContent = ""; tagsEl.textContent = ""; whyEl.textContent = "";
  document.body.dataset.state = "loading";
  try {
    const res = await fetch("/api/profile", {method: "POST", headers: {"Content-Type": "application/json"},
                                             body: JSON.stringify({text: document.getElementById("text").value})});
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
