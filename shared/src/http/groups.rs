//! Handlers of customer groups (docs/announcements.md).

use std::sync::Arc;

use lambda_http::{Body, Request, Response};

use super::openapi::{Cursor, PageSize};
use super::{json_body, json_body_up_to, path_param, principal, query_param, respond};
use crate::app::groups;
use crate::app::paging::{page_size, PageOf};
use crate::app::App;
use crate::domain::group::{CustomerGroup, Group, GroupMember, GroupPatch, MemberList, MembersChanged, NewGroup};
use crate::domain::limits::MAX_MEMBERS_BODY_BYTES;
use crate::domain::{CustomerId, GroupId};
use crate::error::ErrorBody;

/// The answer to a deletion.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct GroupDeleted {
    #[schema(value_type = GroupId)]
    pub id: String,
    pub deleted: bool,
}

#[utoipa::path(post, path = "/v1/groups", tag = "groups", request_body = NewGroup,
    responses(
        (status = 201, body = Group),
        (status = 400, body = ErrorBody, description = "A blank or too long name or description"),
        (status = 403, body = ErrorBody, description = "Customers")),
    security(("bearer" = [])))]
pub async fn create_group(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 201, |req| async move { groups::create(&app, &principal(&req)?, json_body(&req)?).await }).await
}

#[utoipa::path(get, path = "/v1/groups", tag = "groups",
    params(("limit" = Option<PageSize>, Query), ("cursor" = Option<Cursor>, Query)),
    responses(
        (status = 200, body = PageOf<Group>, description = "The tenant's groups, oldest first"),
        (status = 400, body = ErrorBody, description = "A bad limit or cursor"),
        (status = 403, body = ErrorBody, description = "Customers")),
    security(("bearer" = [])))]
pub async fn list_groups(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let limit = page_size(query_param(&req, "limit").as_deref())?;
        groups::list(&app, &principal(&req)?, limit, query_param(&req, "cursor").as_deref()).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/groups/{groupId}", tag = "groups",
    params(("groupId" = GroupId, Path)),
    responses(
        (status = 200, body = Group),
        (status = 400, body = ErrorBody, description = "A malformed group id"),
        (status = 403, body = ErrorBody, description = "Customers"),
        (status = 404, body = ErrorBody, description = "No such group in this tenant")),
    security(("bearer" = [])))]
pub async fn get_group(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { groups::get(&app, &principal(&req)?, &path_param(&req, "groupId")?).await }).await
}

#[utoipa::path(patch, path = "/v1/groups/{groupId}", tag = "groups", request_body = GroupPatch,
    params(("groupId" = GroupId, Path)),
    responses(
        (status = 200, body = Group),
        (status = 400, body = ErrorBody, description = "A malformed id, an empty change, a blank or too long name or description"),
        (status = 403, body = ErrorBody, description = "Customers"),
        (status = 404, body = ErrorBody, description = "No such group in this tenant")),
    security(("bearer" = [])))]
pub async fn update_group(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { groups::update(&app, &principal(&req)?, &path_param(&req, "groupId")?, json_body(&req)?).await })
        .await
}

#[utoipa::path(delete, path = "/v1/groups/{groupId}", tag = "groups",
    params(("groupId" = GroupId, Path)),
    responses(
        (status = 200, body = GroupDeleted, description = "The group and its memberships are gone"),
        (status = 400, body = ErrorBody, description = "A malformed group id"),
        (status = 403, body = ErrorBody, description = "Anyone but an admin"),
        (status = 404, body = ErrorBody, description = "No such group in this tenant")),
    security(("bearer" = [])))]
pub async fn delete_group(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let id = path_param(&req, "groupId")?;
        groups::delete(&app, &principal(&req)?, &id).await?;
        Ok(GroupDeleted { id, deleted: true })
    })
    .await
}

#[utoipa::path(post, path = "/v1/groups/{groupId}/members", tag = "groups", request_body = MemberList,
    params(("groupId" = GroupId, Path)),
    responses(
        (status = 200, body = MembersChanged, description = "Members added (`changed`: those who were not members yet)"),
        (status = 400, body = ErrorBody, description = "A malformed id, no ids or more than 10,000"),
        (status = 403, body = ErrorBody, description = "Customers"),
        (status = 404, body = ErrorBody, description = "No such group in this tenant"),
        (status = 409, body = ErrorBody, description = "`unknown_customers`: ids of no customer of this tenant (named in the message); nothing is added"),
        (status = 413, body = ErrorBody, description = "A body over 512 KiB")),
    security(("bearer" = [])))]
pub async fn add_group_members(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = path_param(&req, "groupId")?;
        groups::add_members(&app, &p, &id, json_body_up_to::<MemberList>(&req, MAX_MEMBERS_BODY_BYTES)?).await
    })
    .await
}

#[utoipa::path(post, path = "/v1/groups/{groupId}/members/remove", tag = "groups", request_body = MemberList,
    params(("groupId" = GroupId, Path)),
    responses(
        (status = 200, body = MembersChanged, description = "Members removed (`changed`: those who were members)"),
        (status = 400, body = ErrorBody, description = "A malformed id, no ids or more than 10,000"),
        (status = 403, body = ErrorBody, description = "Customers"),
        (status = 404, body = ErrorBody, description = "No such group in this tenant"),
        (status = 413, body = ErrorBody, description = "A body over 512 KiB")),
    security(("bearer" = [])))]
pub async fn remove_group_members(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = path_param(&req, "groupId")?;
        groups::remove_members(&app, &p, &id, json_body_up_to::<MemberList>(&req, MAX_MEMBERS_BODY_BYTES)?).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/groups/{groupId}/members", tag = "groups",
    params(("groupId" = GroupId, Path), ("limit" = Option<PageSize>, Query), ("cursor" = Option<Cursor>, Query)),
    responses(
        (status = 200, body = PageOf<GroupMember>, description = "Members in customer id order"),
        (status = 400, body = ErrorBody, description = "A malformed id, limit or cursor"),
        (status = 403, body = ErrorBody, description = "Customers"),
        (status = 404, body = ErrorBody, description = "No such group in this tenant")),
    security(("bearer" = [])))]
pub async fn list_group_members(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let limit = page_size(query_param(&req, "limit").as_deref())?;
        groups::members(&app, &principal(&req)?, &path_param(&req, "groupId")?, limit, query_param(&req, "cursor").as_deref()).await
    })
    .await
}

#[utoipa::path(get, path = "/v1/customers/{customerId}/groups", tag = "groups",
    params(("customerId" = CustomerId, Path), ("limit" = Option<PageSize>, Query), ("cursor" = Option<Cursor>, Query)),
    responses(
        (status = 200, body = PageOf<CustomerGroup>, description = "The groups the customer belongs to"),
        (status = 400, body = ErrorBody, description = "A malformed id, limit or cursor"),
        (status = 403, body = ErrorBody, description = "Customers"),
        (status = 404, body = ErrorBody, description = "No such customer in this tenant")),
    security(("bearer" = [])))]
pub async fn list_customer_groups(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let p = principal(&req)?;
        let id = CustomerId::parse(&path_param(&req, "customerId")?)?;
        let limit = page_size(query_param(&req, "limit").as_deref())?;
        groups::of_customer(&app, &p, &id, limit, query_param(&req, "cursor").as_deref()).await
    })
    .await
}
