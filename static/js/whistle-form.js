// The "raise a whistle" form: the map that marks the place, and the
// appointed check-in time shown only for a quick whistle. Settings come from
// data-* attributes (no inline script: the content security policy forbids it).
(function () {
  "use strict";

  function byId(id) {
    return id ? document.getElementById(id) : null;
  }

  function setupModeToggle(form) {
    var radios = form.querySelectorAll('input[name="mode"]');
    var dependants = form.querySelectorAll("[data-show-for-mode]");
    function update() {
      var checked = form.querySelector('input[name="mode"]:checked');
      var mode = checked ? checked.value : "regular";
      dependants.forEach(function (element) {
        element.hidden = element.dataset.showForMode !== mode;
      });
    }
    radios.forEach(function (radio) {
      radio.addEventListener("change", update);
    });
    update();
  }

  function setupMap(element) {
    if (!element || typeof L === "undefined") {
      return;
    }
    var lonInput = byId(element.dataset.lonInput);
    var latInput = byId(element.dataset.latInput);
    var gridInput = byId(element.dataset.gridInput);
    var output = byId(element.dataset.pointOutput);
    var clear = byId("whistle-point-clear");
    var icon = L.icon({
      iconUrl: element.dataset.markerIcon,
      iconRetinaUrl: element.dataset.markerIcon2x,
      shadowUrl: element.dataset.markerShadow,
      iconSize: [25, 41],
      iconAnchor: [12, 41],
      shadowSize: [41, 41],
    });
    var map = L.map(element, { zoomControl: true, attributionControl: false });
    if (element.dataset.tileUrl) {
      L.tileLayer(element.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
    }
    map.setView([40.0, 116.4], 11);
    var marker = null;

    function announce() {
      document.body.dispatchEvent(new CustomEvent("whistle-point", { bubbles: true }));
    }

    function showPoint(lon, lat) {
      if (marker) {
        marker.setLatLng([lat, lon]);
      } else {
        marker = L.marker([lat, lon], { icon: icon }).addTo(map);
      }
      if (output) {
        output.textContent = lon.toFixed(6) + ", " + lat.toFixed(6);
      }
    }

    function setPoint(latlng) {
      var lon = latlng.lng;
      var lat = latlng.lat;
      lonInput.value = lon.toFixed(6);
      latInput.value = lat.toFixed(6);
      // The point decides the grid: a grid chosen earlier would override it.
      if (gridInput) {
        gridInput.value = "";
      }
      showPoint(lon, lat);
      announce();
    }

    function clearPoint() {
      lonInput.value = "";
      latInput.value = "";
      if (marker) {
        map.removeLayer(marker);
        marker = null;
      }
      if (output) {
        output.textContent = output.dataset.empty || "";
      }
      announce();
    }

    map.on("click", function (event) {
      setPoint(event.latlng);
    });
    if (clear) {
      clear.addEventListener("click", clearPoint);
    }

    var grids = L.geoJSON(null, {
      style: { color: "#b02a37", weight: 1, fillOpacity: 0.05 },
      onEachFeature: function (feature, layer) {
        var p = feature.properties || {};
        // A click on a grid bubbles up to the map, which marks the point.
        layer.bindTooltip(p.code + " " + p.name + (p.community ? " · " + p.community : ""), { sticky: true });
      },
    }).addTo(map);

    fetch(element.dataset.gridsUrl, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data || !data.features || !data.features.length) {
          return;
        }
        grids.addData(data);
        if (!marker) {
          map.fitBounds(grids.getBounds(), { padding: [10, 10] });
        }
      });

    var lon = parseFloat(lonInput.value);
    var lat = parseFloat(latInput.value);
    if (isFinite(lon) && isFinite(lat)) {
      showPoint(lon, lat);
      map.setView([lat, lon], 15);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("whistle-form");
    if (!form) {
      return;
    }
    setupModeToggle(form);
    setupMap(document.getElementById("whistle-map"));
  });
})();
