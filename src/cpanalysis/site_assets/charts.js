/* cpanalysis chart runtime: draw each chart with vega-embed, fitted to its column.
 *
 * Loaded once per page (inlined in a notebook's first chart, or as one file in site_libs
 * on the site), after the vega bundle. For each chart:
 *   - the chart takes the width of its column ("container" width), and at narrow widths its
 *     title, subtitle, legend and long axis labels are re-laid so nothing is cut off;
 *   - the dropdowns (vega "bindings") go into the chart's controls box, and only the drawn
 *     picture carries role="img", so no control sits inside an image (WCAG 4.1.2);
 *   - the image's accessible name is the title as drawn, updated when a dropdown changes it;
 *   - the actions menu ("Save as SVG / PNG") has a name for screen readers;
 *   - when the column changes width (a phone turned, a window resized) the chart is laid
 *     out again, keeping the reader's choice in each dropdown.
 */
(function () {
  "use strict";
  if (window.cpaChart) {
    return;
  }
  var FONT = 'system-ui, "Segoe UI", Arial, sans-serif';
  var TITLE_FONT = "bold 16px " + FONT;
  var SUBTITLE_FONT = "12px " + FONT;
  var PADDING = 8; // the house theme's padding on each side
  var ACTIONS = 38; // vega-embed keeps this much on the right for the "..." button
  var canvas = null;

  function textWidth(text, font) {
    canvas = canvas || document.createElement("canvas");
    var ctx = canvas.getContext("2d");
    ctx.font = font;
    return ctx.measureText(text).width;
  }

  function asLines(text) {
    if (text === null || text === undefined) {
      return null;
    }
    return Array.isArray(text) ? text.map(String) : [String(text)];
  }

  // Lines that each fit stay as they are; otherwise the words are wrapped again.
  function wrap(lines, font, width) {
    if (lines.every(function (l) { return textWidth(l, font) <= width; })) {
      return lines;
    }
    var out = [];
    var line = "";
    lines.join(" ").split(/\s+/).forEach(function (word) {
      if (!word) {
        return;
      }
      var next = line ? line + " " + word : word;
      if (line && textWidth(next, font) > width) {
        out.push(line);
        line = word;
      } else {
        line = next;
      }
    });
    if (line) {
      out.push(line);
    }
    return out;
  }

  var AXIS_TITLE_FONT = "13px " + FONT;

  // Axis titles are cut at the axis length: give a long one more lines instead.
  function wrapAxisTitles(node, across, along) {
    if (Array.isArray(node)) {
      node.forEach(function (n) { wrapAxisTitles(n, across, along); });
      return;
    }
    if (!node || typeof node !== "object") {
      return;
    }
    if (node.encoding) {
      [["x", across], ["y", along]].forEach(function (pair) {
        var channel = node.encoding[pair[0]];
        if (channel && (typeof channel.title === "string" || Array.isArray(channel.title))) {
          channel.title = wrap(asLines(channel.title), AXIS_TITLE_FONT, pair[1]);
        }
      });
    }
    ["layer", "spec"].forEach(function (key) {
      if (node[key]) {
        wrapAxisTitles(node[key], across, along);
      }
    });
  }

  // cpaWrap(text, px): the text in lines of at most px (12 px type), for long labels
  function wrapLabel(text, px) {
    var lines = wrap([String(text)], "12px " + FONT, px);
    if (lines.length > 2) {
      lines = [lines[0], lines.slice(1).join(" ")];
    }
    return lines.length === 1 ? lines[0] : lines;
  }

  function wrapLegendLabels(node, expr) {
    if (Array.isArray(node)) {
      node.forEach(function (n) { wrapLegendLabels(n, expr); });
      return;
    }
    if (!node || typeof node !== "object") {
      return;
    }
    if (node.encoding) {
      ["color", "fill", "stroke", "strokeDash", "shape"].forEach(function (key) {
        var channel = node.encoding[key];
        if (channel && channel.field && channel.legend !== null) {
          channel.legend = Object.assign({}, channel.legend || {}, { labelExpr: expr });
        }
      });
    }
    ["layer", "spec"].forEach(function (key) {
      if (node[key]) {
        wrapLegendLabels(node[key], expr);
      }
    });
  }

  function isComposite(spec) {
    return ["hconcat", "vconcat", "concat", "facet", "repeat"].some(function (k) {
      return k in spec;
    });
  }

  function clampLabelLimits(node, most) {
    if (Array.isArray(node)) {
      node.forEach(function (n) { clampLabelLimits(n, most); });
    } else if (node && typeof node === "object") {
      Object.keys(node).forEach(function (key) {
        if (key === "labelLimit" && typeof node[key] === "number" && node[key] > most) {
          node[key] = most;
        } else if (key !== "data" && key !== "datasets") {
          clampLabelLimits(node[key], most);
        }
      });
    }
  }

  // A copy of the spec laid out for a column `width` px wide.
  function fit(spec, width) {
    var s = JSON.parse(JSON.stringify(spec));
    var avail = Math.max(200, width - ACTIONS - 2 * PADDING - 4);
    if (!isComposite(s) && s.width === undefined) {
      s.width = "container";
      s.autosize = { type: "fit-x", contains: "padding" };
    }
    var title = s.title;
    if (title && typeof title === "object" && !Array.isArray(title)) {
      if (typeof title.text === "string" || Array.isArray(title.text)) {
        title.text = wrap(asLines(title.text), TITLE_FONT, avail);
      }
      var sub = asLines(title.subtitle);
      if (sub) {
        title.subtitle = wrap(sub, SUBTITLE_FONT, avail);
      }
      title.limit = avail;
    } else if (typeof title === "string" || Array.isArray(title)) {
      s.title = { text: wrap(asLines(title), TITLE_FONT, avail) };
    }
    // titles that follow a dropdown: a parameter "<name>_title" maps each choice to lines
    (s.params || []).forEach(function (p) {
      if (/_title$/.test(p.name) && p.value && typeof p.value === "object") {
        Object.keys(p.value).forEach(function (k) {
          p.value[k] = wrap(asLines(p.value[k]), TITLE_FONT, avail);
        });
      }
    });
    var narrow = avail < 560;
    var labels = Math.floor(avail * (narrow ? 0.4 : 0.42));
    clampLabelLimits(s, labels);
    wrapAxisTitles(s, Math.floor(avail * 0.55), 280);
    var config = (s.config = s.config || {});
    var columns = narrow ? 1 : 2;
    // a bottom legend starts where the plot starts, after the y axis labels
    var legendLabels = narrow ? avail - labels - 40 : Math.floor(avail / columns) - 48;
    config.legend = Object.assign({}, config.legend || {}, {
      columns: columns,
      labelLimit: legendLabels,
      titleLimit: avail
    });
    config.axis = Object.assign({}, config.axis || {}, { labelOverlap: true });
    if (narrow) {
      // on a phone, long category names take two lines rather than being cut short
      wrapLegendLabels(s, "cpaWrap(datum.label, " + legendLabels + ")");
      config.axisY = Object.assign({}, config.axisY || {}, {
        labelExpr: "cpaWrap(datum.label, " + labels + ")"
      });
      config.view = Object.assign({}, config.view || {}, { discreteHeight: { step: 40 } });
    }
    return s;
  }

  // The title as vega drew it, one line after another.
  function drawnTitle(root) {
    var group = root.querySelector("svg.marks .role-title-text");
    if (!group) {
      return "";
    }
    var parts = [];
    group.querySelectorAll("text").forEach(function (t) {
      var spans = t.querySelectorAll("tspan");
      if (spans.length) {
        spans.forEach(function (sp) { parts.push(sp.textContent); });
      } else {
        parts.push(t.textContent);
      }
    });
    return parts.join(" ").replace(/\s+/g, " ").trim();
  }

  function name(root) {
    var view = root.querySelector(".cpa-chart-view");
    var img = view.querySelector(".chart-wrapper") || view;
    var label = drawnTitle(root) || root.getAttribute("data-label") || "Chart";
    if (img !== view) {
      view.removeAttribute("role");
      view.removeAttribute("aria-label");
      img.removeAttribute("aria-roledescription");
    }
    img.setAttribute("role", "img");
    img.setAttribute("aria-label", label);
    // one image, named by its title: the marks vega describes inside it are hidden, as an
    // image's parts are (some, such as a forecast band, have no description of their own)
    img.querySelectorAll("svg.marks").forEach(function (svg) {
      svg.setAttribute("aria-hidden", "true");
    });
    root.querySelectorAll("details > summary").forEach(function (summary) {
      summary.setAttribute("aria-label", "Save this chart as an SVG or PNG file");
    });
  }

  function boundParams(spec) {
    return (spec.params || []).filter(function (p) { return p.bind; });
  }

  window.cpaChart = function (root, spec, opts) {
    var view = root.querySelector(".cpa-chart-view");
    var controls = root.querySelector(".cpa-chart-controls");
    var state = { result: null, width: 0, values: {} };

    function draw() {
      var width = root.clientWidth || 640;
      state.width = width;
      var laid = fit(spec, width);
      boundParams(laid).forEach(function (p) {
        if (p.name in state.values) {
          p.value = state.values[p.name];
        }
      });
      if (controls) {
        controls.textContent = "";
      }
      // vega-embed's own style makes its element inline-block, which has no width to fill
      view.style.display = "block";
      view.style.width = "100%";
      var options = Object.assign({}, opts, {
        expressionFunctions: { cpaWrap: wrapLabel }
      }, controls ? { bind: controls } : {});
      return window.vegaEmbed(view, laid, options).then(function (result) {
        state.result = result;
        name(root);
        boundParams(laid).forEach(function (p) {
          result.view.addSignalListener(p.name, function (_, value) {
            state.values[p.name] = value;
            result.view.runAsync().then(function () { name(root); });
          });
        });
        return result;
      });
    }

    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () {
        var width = root.clientWidth;
        if (state.result && width && Math.abs(width - state.width) > 24) {
          state.result.finalize();
          draw();
        }
      }, 200);
    });
    return draw();
  };
})();
