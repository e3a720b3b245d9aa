"""The A/B report's chart: one panel per metric, stacked, each showing the relative lift of every
variant over the control with its 95% interval, for all users and each segment, and the figures
written next to the bars. Labels in Chinese and English.

It replaced a 2100×420 strip of five panels (unreadable at 100%) labelled with internal metric
names. 1000 px wide at 100 dpi; the height grows with the rows. Chinese needs a CJK font:
WenQuanYi Zen Hei (Debian fonts-wqy-zenhei, `make fonts-setup`) or Noto Sans CJK when installed;
without one the labels fall back to English only rather than printing empty boxes.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

CJK_FONT_HINTS = ("wqy-zenhei", "wqy-microhei", "notosanscjk", "notoserifcjk", "sourcehansans", "droidsansfallback")
UP, DOWN, FLAT = "#1a7f37", "#c62828", "#6b7280"  # significant gain, significant loss, interval spans 0


def cjk_font() -> Optional[str]:
    """The family name of an installed CJK font (registered with matplotlib), or None."""
    from matplotlib import font_manager

    for path in font_manager.findSystemFonts():
        if any(hint in Path(path).name.lower().replace("-", "").replace("_", "") or hint in path.lower()
               for hint in CJK_FONT_HINTS):
            try:
                font_manager.fontManager.addfont(path)
                return font_manager.FontProperties(fname=path).get_name()
            except (OSError, RuntimeError, ValueError):
                continue
    return None


def _rows(result: dict) -> List[tuple]:
    """(segment key, variant) per row: all users first, then each segment, for every treatment."""
    treatments = result["variants"][1:]
    return [(seg, v) for seg in ["all", *result["segments"]] for v in treatments]


def draw_chart(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from infra.jobs.ab_report import METRICS, SEGMENTS, fmt_lift, fmt_p, fmt_value

    import logging

    # WenQuanYi ships one weight (500); matplotlib says so once per text object otherwise
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    font = cjk_font()
    bilingual = font is not None
    if bilingual:
        plt.rcParams["font.family"] = [font, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False  # WenQuanYi has no U+2212
    tables = {"all": result["overall"], **result["segments"]}
    rows = _rows(result)
    multi = len(result["variants"]) > 2
    fig_h = 1.9 + len(METRICS) * (0.9 + 0.45 * len(rows))
    fig, axes = plt.subplots(len(METRICS), 1, figsize=(10, fig_h), dpi=100)
    control = result["control"]
    title = f"A/B 实验 {result['experiment']}：各指标相对对照组的提升（95% 置信区间）" if bilingual else \
        f"A/B experiment {result['experiment']}"
    fig.suptitle(f"{title}\nlift vs control '{control}' with 95% CI, per metric", fontsize=13)
    for ax, metric in zip(axes, METRICS):
        zh, en = METRICS[metric]
        ax.set_title(f"{zh}  {en}" if bilingual else en, loc="left", fontsize=12, fontweight="bold")
        ys, labels = [], []
        for i, (seg, variant) in enumerate(rows):
            y = len(rows) - 1 - i
            table = tables[seg]
            c = table["lift"][variant][metric]
            lo, hi, lift = (100 * x for x in (c["ci"][0], c["ci"][1], c["lift"]))
            colour = FLAT if not (lo > 0 or hi < 0) else (UP if lo > 0 else DOWN)
            if lift == lift:
                ax.errorbar(lift, y, xerr=[[lift - lo], [hi - lift]], fmt="o", color=colour, ecolor=colour,
                            elinewidth=2.5, capsize=5, markersize=7)
            base, treated = table["metrics"][control][metric], table["metrics"][variant][metric]
            ax.annotate(f"{fmt_lift(c['lift'], 1)}  [{fmt_lift(c['ci'][0], 1)}, {fmt_lift(c['ci'][1], 1)}]"
                        f"   p = {fmt_p(c['p'])}\n{control} {fmt_value(metric, base['value'])} → "
                        f"{variant} {fmt_value(metric, treated['value'])}   (n = {table['users'][variant]:,})",
                        xy=(1.01, y), xycoords=("axes fraction", "data"), va="center", fontsize=9.5, color="#111827")
            zh_seg, en_seg = SEGMENTS.get(seg, (seg, seg))
            name = f"{zh_seg} {en_seg}" if bilingual else en_seg
            labels.append(f"{name}\n{variant}" if multi else name)
            ys.append(y)
        ax.axvline(0, color="#374151", lw=1)
        ax.set_yticks(ys)
        ax.set_yticklabels(labels, fontsize=10)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlabel("相对提升 relative lift (%)" if bilingual else "relative lift (%)", fontsize=10)
        ax.tick_params(axis="x", labelsize=9.5)
        ax.grid(axis="x", color="#e5e7eb")
        left, right = ax.get_xlim()
        span = max(abs(left), abs(right))
        ax.set_xlim(-span, span)  # zero in the middle: gains right, losses left, at one glance
    key = ("绿色：显著提升  红色：显著下降  灰色：区间含 0（无显著差异）\n" if bilingual else "") + \
        "green: significant gain   red: significant loss   grey: the interval includes 0 (no clear difference)"
    fig.text(0.01, 0.005, key, fontsize=9.5, color="#374151", va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 1))  # the figures beside each panel count in its extent
    fig.savefig(path, dpi=100)
    plt.close(fig)
