"""What every page request carries: its language, catalog and web session; and how it ends (cookies)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from babel.support import NullTranslations
from starlette.requests import Request
from starlette.responses import Response

from app.runtime import Runtime
from app.web import i18n, session
from app.web.session import WebSession

if TYPE_CHECKING:
    from app.services.staff.principal import StaffPrincipal

LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


@dataclass
class Page:
    """One page request: the reader's language and session."""

    request: Request
    runtime: Runtime
    lang: str
    lang_from_query: bool
    translations: NullTranslations
    session: WebSession
    #: The staff member signed in, once a page asked (shown in the staff pages' header).
    staff: StaffPrincipal | None = None

    @classmethod
    def of(cls, request: Request, runtime: Runtime) -> Page:
        """The page context of ``request``."""
        lang, from_query = i18n.choose_language(request)
        return cls(
            request=request,
            runtime=runtime,
            lang=lang,
            lang_from_query=from_query,
            translations=i18n.translations(lang),
            session=session.load(request, runtime),
        )

    def gettext(self, message: str, **variables: Any) -> str:
        """``message`` in the reader's language, with ``%(name)s`` variables filled in."""
        text = self.translations.gettext(message)
        return text % variables if variables else text

    def finish(self, response: Response) -> None:
        """Set the cookies this request changed: the language asked for, the session."""
        if self.lang_from_query:
            response.set_cookie(
                i18n.LANG_COOKIE,
                self.lang,
                max_age=LANG_COOKIE_MAX_AGE,
                path="/",
                httponly=True,
                samesite="lax",
                secure=session.secure_cookies(self.runtime),
            )
        session.save(response, self.session, self.runtime)
