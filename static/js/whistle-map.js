// The maps: the map page (grids shaded by their whistles, markers by traffic light, a grid's
// whistles loaded into the side panel with htmx) and the whistle page's small map (its point
// and its grid's outline). Each map container says which it is in data-map-kind; settings
// come from data-* attributes (no inline script: the content security policy forbids it).
// Colours live in static/css/map.css; they are read from it, not repeated here.
(function () {
  "use strict";

  var DEFAULT_VIEW = [40.0, 116.4];
  var SHADES = 5;
  var LIGHTS = ["red", "yellow", "green", "grey"];
  var lastInputWasKeyboard = false;

  document.addEventListener("keydown", function () {
    lastInputWasKeyboard = true;
  });
  document.addEventListener("pointerdown", function () {
    lastInputWasKeyboard = false;
  });

  function byId(id) {
    return id ? document.getElementById(id) : null;
  }

  // The background colour a class of map.css gives, read from a probe element.
  function cssColour(className) {
    var probe = document.createElement("span");
    probe.className = className;
    probe.hidden = true;
    document.body.appendChild(probe);
    var colour = window.getComputedStyle(probe).backgroundColor;
    probe.remove();
    return colour;
  }

  function baseMap(element, options) {
    var map = L.map(element, Object.assign({ attributionControl: false }, options || {}));
    if (element.dataset.tileUrl) {
      L.tileLayer(element.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
    }
    map.setView(DEFAULT_VIEW, 11);
    return map;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } }).then(
      function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      }
    );
  }

  function textElement(tag, text, className) {
    var element = document.createElement(tag);
    element.textContent = text;
    if (className) {
      element.className = className;
    }
    return element;
  }

  // Built from DOM nodes, never from HTML strings: titles are whatever a reporter typed.
  function markerPopup(properties) {
    var box = document.createElement("div");
    var link = textElement("a", properties.number);
    link.href = properties.url;
    box.appendChild(link);
    box.appendChild(textElement("div", properties.title));
    box.appendChild(textElement("div", properties.status_label || properties.status, "small text-body-secondary"));
    return box;
  }

  // The map page -----------------------------------------------------------------------

  function initOverview(element) {
    var map = baseMap(element);
    var panel = byId(element.dataset.panel);
    var cutNotice = byId(element.dataset.cutNotice);
    var loadError = byId(element.dataset.loadError);
    var query = element.dataset.filterQuery || "";
    var shadeColours = [];
    for (var shade = 0; shade <= SHADES; shade++) {
      shadeColours.push(cssColour("map-swatch map-shade-" + shade));
    }
    var lightColours = {};
    LIGHTS.forEach(function (light) {
      lightColours[light] = cssColour("map-dot map-light-" + light);
    });
    var chosen = null;
    var layersByCode = {};

    function gridStyle(feature) {
      var shade = feature.properties.shade || 0;
      var isChosen = feature.properties.code === chosen;
      return {
        color: isChosen ? "#0d6efd" : "#495057",
        weight: isChosen ? 3 : 1,
        fillColor: shadeColours[shade],
        // Unshaded grids keep a (transparent) fill so that a click inside them still counts.
        fillOpacity: shade ? 0.65 : 0,
      };
    }

    function panelUrl(code) {
      var url = element.dataset.panelUrl.replace(element.dataset.codePlaceholder, encodeURIComponent(code));
      return query ? url + "?" + query : url;
    }

    function openPanel(code) {
      if (!panel || typeof htmx === "undefined") {
        window.location.href = panelUrl(code);
        return;
      }
      htmx.ajax("GET", panelUrl(code), { target: panel, swap: "innerHTML" });
    }

    function choose(code) {
      chosen = code;
      grids.setStyle(gridStyle);
      var layer = code ? layersByCode[code] : null;
      if (layer) {
        layer.bringToFront();
        if (!map.getBounds().contains(layer.getBounds())) {
          map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: map.getZoom() });
        }
      }
      markers.eachLayer(function (marker) {
        marker.bringToFront();
      });
      document.querySelectorAll("#grid-list tr[data-grid-code]").forEach(function (row) {
        row.classList.toggle("grid-chosen", row.dataset.gridCode === code);
      });
    }

    var grids = L.geoJSON(null, {
      style: gridStyle,
      onEachFeature: function (feature, layer) {
        var p = feature.properties || {};
        layersByCode[p.code] = layer;
        layer.bindTooltip(p.code + " " + p.name + " · " + p.community + " · " + p.count, { sticky: true });
        layer.on("click", function () {
          openPanel(p.code);
        });
      },
    }).addTo(map);
    var markers = L.layerGroup().addTo(map);

    if (panel) {
      document.body.addEventListener("htmx:afterSwap", function (event) {
        if (event.detail.target !== panel) {
          return;
        }
        var body = panel.querySelector("[data-grid-code]");
        choose(body ? body.dataset.gridCode : null);
        // Someone working by keyboard goes on reading in the panel; a click on the map leaves the focus alone.
        var title = panel.querySelector("[tabindex='-1']");
        if (lastInputWasKeyboard && title) {
          title.focus();
        }
      });
    }

    function failed() {
      if (loadError) {
        loadError.hidden = false;
      }
    }

    getJSON(element.dataset.gridsUrl)
      .then(function (data) {
        grids.addData(data);
        if (data.features && data.features.length) {
          map.fitBounds(grids.getBounds(), { padding: [10, 10] });
        }
        return getJSON(element.dataset.whistlesUrl);
      })
      .then(function (data) {
        (data.features || []).forEach(function (feature) {
          var p = feature.properties;
          var lonLat = feature.geometry.coordinates;
          L.circleMarker([lonLat[1], lonLat[0]], {
            radius: 6,
            color: "#ffffff",
            weight: 1.5,
            fillColor: lightColours[p.light] || lightColours.grey,
            fillOpacity: 0.95,
          })
            .bindPopup(markerPopup(p))
            .bindTooltip(p.number + " " + p.title)
            .addTo(markers);
        });
        if (cutNotice) {
          cutNotice.hidden = !data.truncated;
        }
        if (!grids.getLayers().length && markers.getLayers().length) {
          map.fitBounds(L.featureGroup(markers.getLayers()).getBounds(), { padding: [20, 20] });
        }
        element.dataset.loaded = "true";
      })
      .catch(failed);
  }

  // The whistle page ------------------------------------------------------------------

  function initWhistle(element) {
    var map = baseMap(element, { scrollWheelZoom: false });
    var lon = parseFloat(element.dataset.lon);
    var lat = parseFloat(element.dataset.lat);
    var outline = null;
    if (element.dataset.boundary) {
      outline = L.geoJSON(JSON.parse(element.dataset.boundary), {
        style: { color: "#495057", weight: 2, fillColor: "#0d6efd", fillOpacity: 0.08 },
        interactive: false,
      }).addTo(map);
    }
    var point = isFinite(lon) && isFinite(lat) ? L.latLng(lat, lon) : null;
    if (point) {
      L.circleMarker(point, {
        radius: 8,
        color: "#ffffff",
        weight: 2,
        fillColor: cssColour("map-dot map-light-red"),
        fillOpacity: 1,
      }).addTo(map);
    }
    if (outline) {
      var bounds = outline.getBounds();
      if (point) {
        bounds.extend(point);
      }
      map.fitBounds(bounds, { padding: [15, 15], maxZoom: 17 });
    } else if (point) {
      map.setView(point, 16);
    }
    element.dataset.loaded = "true";
  }

  var INIT = { overview: initOverview, whistle: initWhistle };

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof L === "undefined") {
      return;
    }
    document.querySelectorAll("[data-map-kind]").forEach(function (element) {
      var init = INIT[element.dataset.mapKind];
      if (init) {
        init(element);
      }
    });
  });
})();
