// The Portal's one script of its own: switches the colour scheme (the stylesheet follows the <html>
// element's data-colour-scheme: light, dark or system) and remembers it in a cookie, so the next page
// is rendered in it from the first byte.
window.cogrionPortal = {
    setColourScheme: function (scheme) {
        document.documentElement.setAttribute("data-colour-scheme", scheme);
        var maxAge = scheme === "system" ? 0 : 60 * 60 * 24 * 365;
        document.cookie = "cogrion.colour-scheme=" + encodeURIComponent(scheme) + "; path=/; max-age=" + maxAge + "; samesite=lax";
    }
};
