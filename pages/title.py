"""One title (`?title=s123`, guests too): metadata, cast and director links to Browse, seasons and
episodes, ratings and reviews, similar titles; Play / Add to My List / Rate for members, Play trailer
and a sign-up call for guests."""

import streamlit as st
from streamlit.errors import StreamlitAPIException

from backend.catalogue import cards as title_cards
from backend.catalogue import posters
from backend.catalogue import titles as catalogue_titles
from backend.watching import library, recommend
from ui.discovery import BROWSE_PAGE, WATCH_PAGE, badges, card_grid, md, viewer
from ui.refusals import attempt
from ui.session import engine, through_app

# Material icons, not emoji: they draw the same on every machine (emoji fonts are not everywhere).
SCORE_ICONS = {-1: ":material/thumb_down:", 1: ":material/thumb_up:", 2: ":material/favorite:"}

through_app()

who = viewer()
show_id = st.query_params.get("title", "")
details, _ = catalogue_titles.find_title(engine(), show_id)
if details is None:
    st.title("Title not found")
    st.error(f"There is no title “{md(show_id[:40])}” in the catalogue." if show_id else "No title was chosen.")
    st.page_link(BROWSE_PAGE, label="Browse the catalogue", icon=":material/movie:")
    st.stop()
card = details.card
if not title_cards.visible_to(card, who.allowed):
    st.title("Not available")
    st.warning(f"This title is not available for the {md(who.profile.name)} profile.", icon=":material/block:")
    st.page_link(BROWSE_PAGE, label="Browse titles for this profile", icon=":material/movie:")
    st.stop()

flash = st.session_state.pop("title_flash", None)
if flash:
    st.success(md(flash))


def play(query_params: dict) -> None:
    try:
        st.switch_page(WATCH_PAGE, query_params=query_params)
    except StreamlitAPIException:
        st.error("Playback is not available right now.")


def people_links(label: str, names: tuple[str, ...], limit: int = 12) -> None:
    if not names:
        return
    st.markdown(f"**{label}**")
    cells = st.columns(4)
    for i, name in enumerate(names[:limit]):
        cells[i % 4].page_link(BROWSE_PAGE, label=md(name), query_params={"person": name})
    if len(names) > limit:
        st.caption(f"and {len(names) - limit} more")


poster, info = st.columns([1, 3], gap="large")
poster.image(posters.poster_svg(card.show_id, card.title, card.kind, card.access_level), width="stretch")
with info:
    st.title(md(card.title), anchor=False)
    st.markdown(badges(card, who))
    if card.genres:
        cells = st.columns(min(len(card.genres), 4))
        for i, genre in enumerate(card.genres):
            cells[i % len(cells)].page_link(
                BROWSE_PAGE, label=md(genre), query_params={"genre": genre}, icon=":material/label:"
            )
    st.write(md(details.description))
    facts = []
    if details.countries:
        facts.append(f"**Country:** {md(', '.join(details.countries))}")
    if details.date_added:
        facts.append(f"**On Reelhouse since:** {details.date_added:%-d %B %Y}")
    st.markdown("  \n".join(facts))

    if who.is_guest:
        left, right = st.columns(2)
        if left.button("Play trailer", icon=":material/play_circle:", type="primary", width="stretch"):
            play({"title": card.show_id})
        right.page_link("pages/register.py", label="Sign up to watch the whole title", icon=":material/person_add:")
    else:
        uid, pid = who.user.user_id, who.profile.profile_id
        left, middle = st.columns(2)
        if left.button("Play", icon=":material/play_arrow:", type="primary", width="stretch"):
            play({"title": card.show_id})
        saved = library.in_list(engine(), uid, pid, card.title_id)
        if middle.button(
            "Remove from My List" if saved else "Add to My List",
            icon=":material/check:" if saved else ":material/add:",
            width="stretch",
        ):
            if saved:
                library.remove_from_list(engine(), uid, pid, card.show_id)
                st.session_state["title_flash"] = "Removed from My List."
            else:
                library.add_to_list(engine(), uid, pid, card.show_id, allowed=who.allowed)
                st.session_state["title_flash"] = "Added to My List."
            st.rerun()
        if card.access_level == "premium" and who.access_level != "premium":
            st.caption("This is a Premium title: playing it needs a plan with Premium access.")

    people_links("Director" if len(details.directors) == 1 else "Directors", details.directors)
    people_links("Cast", details.cast)

if card.kind == "tv_show":
    st.header("Episodes", anchor=False)
    seasons = catalogue_titles.episodes(engine(), card.title_id)
    if seasons:
        season = st.selectbox("Season", list(seasons), format_func=lambda s: f"Season {s}", key="title_season")
        for episode in seasons[season]:
            name, length, action = st.columns([6, 1, 1], vertical_alignment="center")
            name.markdown(f"**{episode.episode_number}.** {md(episode.name)}")
            length.caption(f"{episode.duration_minutes} min")
            if not who.is_guest and action.button(
                "Play", key=f"play_{episode.episode_id}", icon=":material/play_arrow:"
            ):
                play({"title": card.show_id, "episode": str(episode.episode_id)})

st.header("Ratings and reviews", anchor=False)
summary = library.rating_summary(engine(), card.title_id)
if summary.total:
    st.markdown(
        f"{SCORE_ICONS[2]} {summary.love:,} loved · {SCORE_ICONS[1]} {summary.up:,} liked · "
        f"{SCORE_ICONS[-1]} {summary.down:,} not for them · "
        f"**{summary.liked_share:.0%}** of {summary.total:,} members liked it"
    )
else:
    st.caption("No ratings yet.")

if not who.is_guest:
    mine = library.my_rating(engine(), who.user.user_id, who.profile.profile_id, card.title_id)
    with st.form("rate_form"):
        score = st.segmented_control(
            "Your rating",
            list(library.SCORES),
            format_func=lambda s: f"{SCORE_ICONS[s]} {library.SCORES[s]}",
            default=mine.score if mine else None,
            key="rate_score",
        )
        review = st.text_area(
            "Review (optional)",
            value=(mine.review or "") if mine else "",
            max_chars=library.MAX_REVIEW_LENGTH,
            key="rate_review",
            placeholder="What did you think? Shown to other members without your name.",
        )
        if st.form_submit_button("Save rating" if mine is None else "Update rating", type="primary"):
            done, _ = attempt(
                lambda: library.rate(
                    engine(), who.user.user_id, who.profile.profile_id, card.show_id, score, review, allowed=who.allowed
                )
            )
            if done:
                st.session_state["title_flash"] = "Thanks, your rating is saved."
                st.rerun()
else:
    st.caption("Sign in to rate this title.")

for item in library.reviews(
    engine(),
    card.title_id,
    user_id=who.user.user_id if who.user else None,
    profile_id=who.profile.profile_id if who.profile else None,
):
    with st.container(border=True):
        who_said = "Your review" if item.mine else "A member"
        st.caption(f"{SCORE_ICONS[item.score]} {who_said} · {item.updated_at:%-d %B %Y}")
        st.markdown(md(item.text))

st.header("More like this", anchor=False)
models = recommend.models(engine())
similar = title_cards.cards(
    engine(), recommend.similar_titles(models, card.title_id, allowed=who.allowed, limit=12), who.allowed
)
if similar:
    st.caption("Similar in genre, cast, director and story, and watched by the same members.")
    card_grid(similar, who, columns=6)
else:
    st.caption("Nothing similar yet.")
