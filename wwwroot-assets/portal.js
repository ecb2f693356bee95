// The Portal's one script of its own: remembers the chosen colour scheme in a cookie, so the next
// page is rendered in it from the first byte (no flash of the other scheme).
window.cogrionPortal = {
    rememberColourScheme: function (scheme) {
        var maxAge = scheme === "system" ? 0 : 60 * 60 * 24 * 365;
        document.cookie = "cogrion.colour-scheme=" + encodeURIComponent(scheme) + "; path=/; max-age=" + maxAge + "; samesite=lax";
    }
};
